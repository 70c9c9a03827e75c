namespace Atoll.System.Tests;

/// <summary>Client commands against a running server that answers with an error: the status and the server's reason, on one line.</summary>
[Collection(SharedServerCollection.Name)]
public sealed class ClientErrorTests(SharedServerFixture fixture)
{
    [Fact]
    public async Task Describing_an_unknown_node_says_404_not_found()
    {
        var result = await fixture.Server.CliAsync("nodes", "describe", "nope");

        Assert.NotEqual(0, result.ExitCode);
        var line = Assert.Single(CliOutput.Lines(result.StandardError));
        Assert.StartsWith("error: 404", line, StringComparison.Ordinal);
        Assert.Contains("not found", line, StringComparison.Ordinal);
        Assert.Contains("nope", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_admin_token_is_refused_with_401()
    {
        var result = await AtollCli.RunAsync("nodes", "--server", fixture.Server.Url, "--token", "atoll_admin_wrong");

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(CliOutput.Lines(result.StandardError));
        Assert.StartsWith("error: 401", line, StringComparison.Ordinal);
        Assert.Equal("", result.StandardOutput);
    }
}
