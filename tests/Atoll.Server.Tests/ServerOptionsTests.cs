namespace Atoll.Server.Tests;

public sealed class ServerOptionsTests
{
    [Fact]
    public void An_https_listen_address_is_refused_with_what_to_do_instead()
    {
        // Kestrel has no certificate here: it used to fail at start with an InvalidOperationException and a stack trace.
        var options = new ServerOptions { Listen = "https://127.0.0.1:7443", DataDir = "/tmp/unused" };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("invalid --listen 'https://127.0.0.1:7443'", error.Message, StringComparison.Ordinal);
        Assert.Contains("terminate TLS in front of it", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ftp://127.0.0.1:7070")]
    [InlineData("127.0.0.1:7070")]
    public void A_listen_address_that_is_no_http_url_is_refused(string listen)
    {
        var error = Assert.Throws<ArgumentException>(new ServerOptions { Listen = listen, DataDir = "/tmp/unused" }.Validate);
        Assert.Contains("expected a URL such as http://127.0.0.1:7070", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_http_listen_address_is_accepted()
    {
        new ServerOptions { Listen = "http://0.0.0.0:7070", DataDir = "/tmp/unused" }.Validate();
    }
}
