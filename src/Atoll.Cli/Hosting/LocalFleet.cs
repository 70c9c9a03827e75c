using Atoll.Cli.Client;
using Atoll.Core.Contracts;
using Atoll.Core.Fleet;

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
        var listenText = listen.AbsoluteUri.TrimEnd('/');
        // Checked before anything starts: the new server would fail to bind, but the old one would answer its
        // readiness probe and this command would report "up" for a fleet it does not run.
        if (ListenProbe.IsInUse(listenText))
        {
            throw new CliException($"something already listens on {listenText} (another `atoll up` or `atoll server`?): stop it, or choose another --listen");
        }
        Directory.CreateDirectory(dataDir);
        var server = Start("server",
        [
            "server", "--listen", listenText, "--data", dataDir, "--heartbeat-interval", heartbeatInterval,
            "--reconcile-interval", "1s", "--instance-poll-interval", "2s",
        ]);
        await WaitReadyAsync(server, ct).ConfigureAwait(false);

        var token = (await File.ReadAllTextAsync(Path.Combine(dataDir, "admin.token"), ct).ConfigureAwait(false)).Trim();
        await WriteEnvAsync(listenText, token, ct).ConfigureAwait(false);
        IReadOnlyList<NodeClaim> claims = [];
        if (nodes > 0)
        {
            using var client = new AtollApiClient(listen, token);
            // The quick start goes through the real provisioning path: a local provider, a pool, claims, bootstrap.
            await client.PostAsync<ApplyResult>("api/v1/resources/apply",
                new ApplyRequest(LocalFleetPlan.Resources(nodes, dataDir), ApplySet: "atoll-up"), ct).ConfigureAwait(false);
            claims = await WaitForNodesAsync(client, server, ct).ConfigureAwait(false);
        }
        PrintSummary(listenText, claims);
        return await SuperviseAsync(server, ct).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        // The server stops the local nodes it provisioned (its local provider owns their processes).
        var grace = TimeSpan.FromSeconds(10);
        await Task.WhenAll(children.Select(c => c.StopAsync(grace))).ConfigureAwait(false);
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

    private async Task<IReadOnlyList<NodeClaim>> WaitForNodesAsync(AtollApiClient client, ChildProcess server, CancellationToken ct)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(90);
        IReadOnlyList<NodeClaim> claims = [];
        while (DateTimeOffset.UtcNow < deadline && !server.HasExited)
        {
            claims = (await client.GetAsync<ItemList<NodeClaim>>($"api/v1/claims?pool={LocalFleetPlan.PoolName}", ct).ConfigureAwait(false)).Items;
            if (claims.Count(c => c.Phase == ClaimPhases.Initialized) >= nodes)
            {
                return claims;
            }
            await Task.Delay(300, ct).ConfigureAwait(false);
        }
        await Console.Error.WriteLineAsync($"warning: {claims.Count(c => c.Phase == ClaimPhases.Initialized)} of {nodes} nodes are ready after 90s; see `atoll get claims` and {LogDir}/").ConfigureAwait(false);
        return claims;
    }

    private void PrintSummary(string server, IReadOnlyList<NodeClaim> claims)
    {
        Console.WriteLine($"Atoll is up: server {server} (data {dataDir})");
        foreach (var c in claims)
        {
            Console.WriteLine($"  node {c.Name,-16} {c.GpuCount}x{c.GpuModel,-6} {c.CapacityType,-10} {c.Region,-8} ${c.PricePerHour:0.00}/h  {c.Phase}  model {LocalFleetPlan.Model} (sim)");
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
