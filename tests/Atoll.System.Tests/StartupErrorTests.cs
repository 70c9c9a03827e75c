using Atoll.Testing.Processes;

namespace Atoll.System.Tests;

/// <summary>Bad input and unreachable dependencies end a command with one line naming the problem, never a stack trace.</summary>
public sealed class StartupErrorTests
{
    [Fact]
    public async Task Server_with_unreachable_postgres_exits_with_one_clear_line()
    {
        using var dir = new TempDirectory("pg-down");
        await using var server = AtollCli.Start(
        [
            "server", "--store", "postgres://u:secretpw@127.0.0.1:1/db", "--data", dir.Combine("data"),
            "--listen", $"http://127.0.0.1:{FreePorts.Next()}",
        ]);

        var code = await server.WaitForExitAsync(TimeSpan.FromSeconds(20));

        Assert.NotEqual(0, code);
        var error = Assert.Single(CliOutput.Lines(server.StandardError), l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Contains("127.0.0.1:1", error, StringComparison.Ordinal);
        Assert.DoesNotContain("secretpw", server.Output, StringComparison.Ordinal);
        Assert.False(CliOutput.HasStackTrace(server.Output), server.Output);
    }

    [Fact]
    public async Task Second_server_on_the_same_data_directory_is_refused_and_the_first_keeps_serving()
    {
        using var dir = new TempDirectory("data-in-use");
        await using var first = await RunningServer.StartAsync(dir.Combine("data"), FreePorts.Next(), dir.Combine("first.log"));

        // Another port, the same directory: it would share the first one's SQLite store and provision the same pools.
        await using var second = AtollCli.Start(
            ["server", "--data", first.DataDir, "--listen", $"http://127.0.0.1:{FreePorts.Next()}"]);
        var code = await second.WaitForExitAsync(TimeSpan.FromSeconds(20));

        Assert.NotEqual(0, code);
        var error = Assert.Single(CliOutput.Lines(second.StandardError), l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Contains($"the data directory {first.DataDir} is in use by another atoll server", error, StringComparison.Ordinal);
        Assert.False(CliOutput.HasStackTrace(second.Output), second.Output);
        var nodes = await first.CliAsync("nodes");
        Assert.Equal(0, nodes.ExitCode);

        // Once the first has stopped, the directory is free again.
        await first.DisposeAsync();
        await using var third = await RunningServer.StartAsync(first.DataDir, FreePorts.Next(), dir.Combine("third.log"));
        Assert.Equal(0, (await third.CliAsync("nodes")).ExitCode);
    }

    [Fact]
    public async Task Server_on_a_port_in_use_says_so_in_one_line_and_creates_nothing()
    {
        using var dir = new TempDirectory("port-in-use");
        using var occupant = new global::System.Net.Sockets.TcpListener(global::System.Net.IPAddress.Loopback, 0);
        occupant.Start();
        var url = $"http://127.0.0.1:{((global::System.Net.IPEndPoint)occupant.LocalEndpoint).Port}";

        var result = await AtollCli.RunAsync("server", "--data", dir.Combine("data"), "--listen", url);

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(CliOutput.Lines(result.StandardError));
        Assert.Equal($"error: cannot listen on {url}: address already in use (is another atoll server running? choose --listen)", line);
        Assert.False(CliOutput.HasStackTrace(result.Output), result.Output);
        Assert.False(Directory.Exists(dir.Combine("data")), "a server that cannot listen creates no data directory");
    }

    [Fact]
    public async Task Client_command_without_a_server_says_it_cannot_reach_it()
    {
        var url = $"http://127.0.0.1:{FreePorts.Next()}";
        var result = await AtollCli.RunAsync("nodes", "--server", url, "--token", "atoll_admin_x");

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(CliOutput.Lines(result.StandardError));
        Assert.StartsWith("error: cannot reach the Atoll server", line, StringComparison.Ordinal);
        Assert.Contains(url, line, StringComparison.Ordinal);
        Assert.Equal("", result.StandardOutput);
    }

    [Fact]
    public async Task Token_ttl_that_is_not_a_duration_is_named_in_the_error()
    {
        var result = await AtollCli.RunAsync("tokens", "create", "--ttl", "abc", "--server", "http://127.0.0.1:1", "--token", "atoll_admin_x");

        Assert.NotEqual(0, result.ExitCode);
        var line = Assert.Single(CliOutput.Lines(result.StandardError));
        Assert.StartsWith("error:", line, StringComparison.Ordinal);
        Assert.Contains("--ttl", line, StringComparison.Ordinal);
        Assert.Contains("abc", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agent_with_malformed_gpus_is_named_in_the_error()
    {
        using var dir = new TempDirectory("bad-gpus");
        var result = await AtollCli.RunAsync(
            "agent", "--server", "http://127.0.0.1:1", "--gpus", "x2H100", "--join-token", "t", "--state", dir.Combine("state"));

        Assert.Equal(2, result.ExitCode); // AgentExitCodes.Config: systemd should not restart a misconfigured agent in a loop
        var line = Assert.Single(CliOutput.Lines(result.StandardError));
        Assert.StartsWith("error:", line, StringComparison.Ordinal);
        Assert.Contains("--gpus", line, StringComparison.Ordinal);
        Assert.False(CliOutput.HasStackTrace(result.Output), result.Output);
    }

    [Fact]
    public async Task Server_help_says_which_switches_are_on_unless_turned_off()
    {
        var result = await AtollCli.RunAsync("server", "--help");

        Assert.Equal(0, result.ExitCode);
        foreach (var name in new[] { "--inline-io", "--upstream-epoll", "--client-epoll", "--http1-front", "--provisioning" })
        {
            // The help wraps long descriptions: an option's text runs up to the next option's row.
            var start = result.StandardOutput.IndexOf("\n  " + name + " ", StringComparison.Ordinal);
            Assert.True(start >= 0, $"{name} is not in the help:\n{result.StandardOutput}");
            var end = result.StandardOutput.IndexOf("\n  -", start + 1, StringComparison.Ordinal);
            Assert.Contains("[default: true]", result.StandardOutput[start..end], StringComparison.Ordinal);
        }
    }
}
