namespace Atoll.Server.Tests;

/// <summary>The runtime settings of a server process are made whichever way the command line is written.</summary>
public sealed class ServerProcessTests
{
    [Theory]
    [InlineData(true, "server")]
    [InlineData(true, "up")]
    [InlineData(true, "server", "--listen", "http://0.0.0.0:7070")]
    [InlineData(true, "--server", "http://10.0.0.1:7070", "server")]
    [InlineData(true, "--token", "x", "--server", "http://h:1", "up")]
    [InlineData(true, "--server=http://h:1", "server")]
    [InlineData(false, "nodes", "list")]
    [InlineData(false, "--server", "server", "nodes")] // "server" is the URL here
    [InlineData(false, "agent", "--server", "http://h:1")]
    [InlineData(false, "sim", "up")]
    [InlineData(false)]
    public void Recognises_the_commands_that_run_the_server(bool expected, params string[] args) =>
        Assert.Equal(expected, ServerProcess.RunsServer(args));
}
