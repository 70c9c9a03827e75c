using Atoll.Testing.Processes;

namespace Atoll.System.Tests;

/// <summary><c>atoll up</c>: a server and simulated nodes as child processes, all started and all stopped together.</summary>
public sealed class LocalFleetTests
{
    private static readonly TimeSpan FleetTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Up_reaches_its_desired_nodes_through_the_local_provider_and_replaces_a_dead_one()
    {
        using var dir = new TempDirectory("up");
        var data = dir.Combine("data");
        try
        {
            await using var up = StartUp(data, nodes: 3, dir.Combine("up.log"));
            var env = await ReadEnvAsync(data, up);

            IReadOnlyList<NodeJson> nodes = [];
            await Eventually.Until(async () =>
            {
                nodes = await ListNodesAsync(env);
                return nodes.Count == 3 && nodes.All(n => n.Gpus.Count > 0 && n.Status("Ready") == "True");
            }, FleetTimeout, "`atoll nodes -o json` shows 3 Ready nodes with GPUs", () => Describe(nodes, up));

            Assert.All(nodes, n => Assert.Equal("local", n.Provider));
            Assert.Contains(nodes, n => n.CapacityType == "spot");
            Assert.True(nodes.SelectMany(n => n.Gpus).Select(g => g.GetProperty("name").GetString()).Distinct().Count() >= 2,
                $"expected at least two GPU models: {Describe(nodes, up)}");

            // They came through the provisioning path: one Initialized claim of pool "default" per node.
            var claims = await ClaimsAsync(env);
            Assert.Equal(nodes.Select(n => n.Name).Order(), claims.Where(c => c.Phase == "Initialized").Select(c => c.Node!).Order());
            Assert.All(claims, c => Assert.Equal("default", c.Pool));

            // A node whose processes die (a VM lost) is replaced: its claim ends with the reason, a new claim brings the pool back to 3.
            var victim = nodes[1].Name;
            var agent = Assert.Single(ProcessTable.FindByCommandLine("--name " + victim).Intersect(ProcessTable.FindByCommandLine(data)));
            using (var process = global::System.Diagnostics.Process.GetProcessById(agent))
            {
                process.Kill();
            }
            await Eventually.Until(async () =>
            {
                nodes = await ListNodesAsync(env);
                return nodes.Count == 3 && nodes.All(n => n.Name != victim && n.Status("Ready") == "True");
            }, FleetTimeout, $"{victim} is replaced by a new Ready node", () => Describe(nodes, up));
            var ended = (await ClaimsAsync(env, all: true)).Single(c => c.Name == victim);
            Assert.Equal("Terminated", ended.Phase);
            Assert.Contains("terminated outside Atoll", ended.Reason, StringComparison.Ordinal);

            up.SendSignal(Signals.Terminate);
            Assert.Equal(0, await up.WaitForExitAsync(TimeSpan.FromSeconds(20)));
            await Eventually.Until(() => Family(data, up.Id).Count == 0, TimeSpan.FromSeconds(10),
                "no process of this `atoll up` is left after SIGTERM", () => ProcessTable.Describe(Family(data, up.Id)));
        }
        finally
        {
            KillLeftovers(data);
        }
    }

    [Fact]
    public async Task Children_exit_when_atoll_up_is_killed()
    {
        using var dir = new TempDirectory("up-kill");
        var data = dir.Combine("data");
        try
        {
            await using var up = StartUp(data, nodes: 2, dir.Combine("up.log"));
            var env = await ReadEnvAsync(data, up);
            await Eventually.Until(async () => (await ListNodesAsync(env)).Count == 2, FleetTimeout, "both nodes registered", up.Tail);
            var children = Family(data, up.Id).Where(p => p != up.Id).ToList();
            Assert.True(children.Count == 5, $"expected a server, two agents and two simulators:\n{ProcessTable.Describe(children)}");
            Assert.All(children, p => Assert.Contains("--exit-with-parent ", ProcessTable.CommandLine(p) ?? "", StringComparison.Ordinal));

            up.SendSignal(Signals.Kill);
            await up.WaitForExitAsync(TimeSpan.FromSeconds(10));

            await Eventually.Until(() => Family(data, up.Id).Count == 0, TimeSpan.FromSeconds(8),
                "the server, agents and simulators of the killed `atoll up` exit", () => ProcessTable.Describe(Family(data, up.Id)));
        }
        finally
        {
            KillLeftovers(data);
        }
    }

    [Fact]
    public async Task Up_refuses_a_listen_address_that_something_already_answers_and_starts_nothing()
    {
        using var dir = new TempDirectory("up-busy");
        var data = dir.Combine("data");
        using var occupant = new global::System.Net.Sockets.TcpListener(global::System.Net.IPAddress.Loopback, 0);
        occupant.Start();
        var url = $"http://127.0.0.1:{((global::System.Net.IPEndPoint)occupant.LocalEndpoint).Port}";
        try
        {
            var result = await AtollCli.RunAsync("up", "--nodes", "1", "--data", data, "--listen", url);

            Assert.Equal(1, result.ExitCode);
            var line = Assert.Single(CliOutput.Lines(result.StandardError));
            Assert.StartsWith($"error: something already listens on {url}", line, StringComparison.Ordinal);
            Assert.DoesNotContain("Atoll is up", result.StandardOutput, StringComparison.Ordinal);
            Assert.False(Directory.Exists(data), "nothing is created for a fleet that did not start");
            Assert.Empty(Family(data, -1));
        }
        finally
        {
            KillLeftovers(data);
        }
    }

    private static AtollProcess StartUp(string data, int nodes, string log) =>
        AtollCli.Start(
        [
            "up", "--nodes", nodes.ToString(), "--data", data,
            "--listen", $"http://127.0.0.1:{FreePorts.Next()}", "--heartbeat-interval", "1s",
        ], logPath: log);

    /// <summary>Reads <c>DATA/env</c>, which <c>atoll up</c> writes once its nodes are started.</summary>
    private static async Task<Dictionary<string, string?>> ReadEnvAsync(string data, AtollProcess up)
    {
        var path = Path.Combine(data, "env");
        await up.WaitForOutputAsync("Atoll is up", FleetTimeout + TimeSpan.FromSeconds(30));
        Assert.True(File.Exists(path), $"{path} missing although atoll up says it is up");
        var env = new Dictionary<string, string?>();
        foreach (var line in await File.ReadAllLinesAsync(path))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (line.StartsWith("ATOLL_", StringComparison.Ordinal) && eq > 0)
            {
                env[line[..eq]] = line[(eq + 1)..];
            }
        }
        Assert.True(env.ContainsKey("ATOLL_SERVER") && env.ContainsKey("ATOLL_TOKEN"), $"{path} lacks ATOLL_SERVER or ATOLL_TOKEN");
        return env;
    }

    /// <summary><c>atoll nodes -o json</c>, run as a user would after sourcing DATA/env.</summary>
    private static async Task<IReadOnlyList<NodeJson>> ListNodesAsync(Dictionary<string, string?> env)
    {
        var result = await AtollCli.RunAsync(env, "nodes", "-o", "json");
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"atoll nodes -o json failed: {result}");
        }
        return NodeJson.ListFrom(result.StandardOutput);
    }

    /// <summary>
    /// Processes of one `atoll up`: those naming its data dir, and those watching the pid of one of them (the server's
    /// simulators name neither port nor dir; they watch the server).
    /// </summary>
    private static List<int> Family(string data, int upPid)
    {
        var family = ProcessTable.FindByCommandLine(data).ToHashSet();
        var parents = new Queue<int>(family.Append(upPid));
        var seen = new HashSet<int>();
        while (parents.TryDequeue(out var parent))
        {
            if (!seen.Add(parent))
            {
                continue;
            }
            foreach (var child in ProcessTable.FindByCommandLine($"--exit-with-parent {parent}"))
            {
                if (family.Add(child))
                {
                    parents.Enqueue(child);
                }
            }
        }
        return [.. family];
    }

    private static async Task<IReadOnlyList<ClaimJson>> ClaimsAsync(Dictionary<string, string?> env, bool all = false)
    {
        using var http = new HttpClient { BaseAddress = new Uri(env["ATOLL_SERVER"]! + "/") };
        http.DefaultRequestHeaders.Authorization = new global::System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", env["ATOLL_TOKEN"]);
        using var doc = global::System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"api/v1/claims?all={all}"));
        return doc.RootElement.GetProperty("items").EnumerateArray().Select(c => new ClaimJson(
            c.GetProperty("name").GetString()!, c.GetProperty("pool").GetString()!, c.GetProperty("phase").GetString()!,
            c.TryGetProperty("nodeName", out var n) ? n.GetString() : null, c.TryGetProperty("reason", out var r) ? r.GetString() : null)).ToList();
    }

    private sealed record ClaimJson(string Name, string Pool, string Phase, string? Node, string? Reason);

    private static string Describe(IReadOnlyList<NodeJson> nodes, AtollProcess up) =>
        $"{string.Join('\n', nodes)}\natoll up output:\n{up.Tail()}";

    /// <summary>A failed test must not leave the fleet running: kill, by id, every process naming this test's data dir.</summary>
    private static void KillLeftovers(string data)
    {
        foreach (var pid in ProcessTable.FindByCommandLine(data))
        {
            try
            {
                using var process = global::System.Diagnostics.Process.GetProcessById(pid);
                process.Kill();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // Already gone.
            }
        }
    }
}
