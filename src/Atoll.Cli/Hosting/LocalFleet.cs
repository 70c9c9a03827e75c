using Atoll.Cli.Client;
using Atoll.Core.Contracts;

namespace Atoll.Cli.Hosting;

/// <summary>
/// <c>atoll up</c>: a server and N simulated nodes as child processes of this one, all stopped together.
/// </summary>
internal sealed class LocalFleet(string dataDir, Uri listen, int nodes, string heartbeatInterval) : IAsyncDisposable
{
    private readonly List<ChildProcess> children = [];
    private readonly string parentPid = Environment.ProcessId.ToString();

    public string LogDir => Path.Combine(dataDir, "logs");

    public string EnvPath => Path.Combine(dataDir, "env");

    public async Task<int> RunAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(dataDir);
        var listenText = listen.AbsoluteUri.TrimEnd('/');
        var server = Start("server", ["server", "--listen", listenText, "--data", dataDir, "--heartbeat-interval", heartbeatInterval]);
        await WaitReadyAsync(server, ct).ConfigureAwait(false);

        var token = (await File.ReadAllTextAsync(Path.Combine(dataDir, "admin.token"), ct).ConfigureAwait(false)).Trim();
        var plan = LocalFleetPlan.Create(nodes);
        if (plan.Count > 0)
        {
            using var client = new AtollApiClient(listen, token);
            var join = await client.PostAsync<JoinTokenView>("api/v1/join-tokens",
                new CreateJoinTokenRequest(plan.Count, "10m", null, "atoll up"), ct).ConfigureAwait(false);
            foreach (var node in plan)
            {
                var port = FreePort();
                Start(node.Name + "-sim",
                [
                    "sim", "--port", port.ToString(), "--model", LocalFleetPlan.Model, "--instance", node.Name,
                    "--ttft", node.TtftMs.ToString(), "--itl", node.ItlMs.ToString(),
                ]);
                Start(node.Name,
                [
                    "agent", "--server", listenText, "--join-token", join.Token!, "--name", node.Name,
                    "--provider", "local", "--region", "local", "--location", node.Location,
                    "--instance-type", node.InstanceType, "--capacity-type", node.CapacityType, "--gpus", node.Gpus,
                    "--label", "atoll.dev/fleet=up", "--state", Path.Combine(dataDir, "nodes", node.Name),
                    "--model", $"{LocalFleetPlan.Model}=http://127.0.0.1:{port}",
                ]);
            }
        }
        await WriteEnvAsync(listenText, token, ct).ConfigureAwait(false);
        PrintSummary(listenText, plan);
        return await SuperviseAsync(server, ct).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        // Agents and simulators first (all at once), so that the server does not log them as lost while it is up.
        var grace = TimeSpan.FromSeconds(5);
        await Task.WhenAll(children.Skip(1).Select(c => c.StopAsync(grace))).ConfigureAwait(false);
        await Task.WhenAll(children.Take(1).Select(c => c.StopAsync(grace))).ConfigureAwait(false);
        foreach (var child in children)
        {
            child.Dispose();
        }
        children.Clear();
    }

    private ChildProcess Start(string name, string[] arguments)
    {
        var child = ChildProcess.Start(name, [.. arguments, "--exit-with-parent", parentPid], Path.Combine(LogDir, name + ".log"));
        children.Add(child);
        return child;
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task WaitReadyAsync(ChildProcess server, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTimeOffset.UtcNow < deadline)
        {
            if (server.HasExited)
            {
                throw new CliException($"the server exited with code {server.Process.ExitCode} during start-up; last lines of {server.LogPath}:\n{server.Tail()}");
            }
            try
            {
                using var response = await http.GetAsync(new Uri(listen, "/readyz"), ct).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
            }
            await Task.Delay(200, ct).ConfigureAwait(false);
        }
        throw new CliException($"the server did not become ready within 60s; see {server.LogPath}");
    }

    private async Task WriteEnvAsync(string server, string token, CancellationToken ct)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        await using var writer = new StreamWriter(new FileStream(EnvPath, options));
        await writer.WriteAsync($"ATOLL_SERVER={server}\nATOLL_TOKEN={token}\nexport ATOLL_SERVER ATOLL_TOKEN\n".AsMemory(), ct).ConfigureAwait(false);
    }

    private void PrintSummary(string server, IReadOnlyList<LocalFleetPlan.LocalNode> plan)
    {
        Console.WriteLine($"Atoll is up: server {server} (data {dataDir})");
        foreach (var node in plan)
        {
            Console.WriteLine($"  node {node.Name,-10} {node.Gpus,-16} {node.CapacityType,-10} {node.Location}  model {LocalFleetPlan.Model} (sim, first token {node.TtftMs} ms)");
        }
        Console.WriteLine($"Logs: {LogDir}/");
        Console.WriteLine("Use it from another terminal:");
        Console.WriteLine($"  . {EnvPath}");
        Console.WriteLine("  atoll nodes");
        Console.WriteLine($"  atoll chat --model {LocalFleetPlan.Model} \"hello\"");
        Console.WriteLine($"  curl -s {server}/v1/chat/completions -H \"Authorization: Bearer $ATOLL_TOKEN\" -H 'Content-Type: application/json' \\");
        Console.WriteLine($"    -d '{{\"model\":\"{LocalFleetPlan.Model}\",\"messages\":[{{\"role\":\"user\",\"content\":\"hi\"}}]}}'");
        Console.WriteLine("Press Ctrl-C to stop everything.");
    }

    private async Task<int> SuperviseAsync(ChildProcess server, CancellationToken ct)
    {
        var reported = new HashSet<string>();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                if (server.HasExited)
                {
                    await Console.Error.WriteLineAsync($"error: the server exited with code {server.Process.ExitCode}; stopping. Last lines of {server.LogPath}:\n{server.Tail()}").ConfigureAwait(false);
                    return 1;
                }
                foreach (var child in children.Where(c => c != server && c.HasExited && reported.Add(c.Name)))
                {
                    await Console.Error.WriteLineAsync($"warning: node {child.Name} exited with code {child.Process.ExitCode}; see {child.LogPath}").ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        Console.WriteLine("Stopping the local fleet...");
        return 0;
    }
}
