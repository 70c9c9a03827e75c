using Atoll.Testing.Processes;

namespace Atoll.System.Tests;

/// <summary><c>atoll up</c>: a server and simulated nodes as child processes, all started and all stopped together.</summary>
public sealed class LocalFleetTests
{
    private static readonly TimeSpan FleetTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Up_starts_three_ready_nodes_and_sigterm_leaves_no_process()
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

            // A node whose agent dies without a word goes not-Ready; the others are unaffected.
            var victim = Assert.Single(ProcessTable.FindByCommandLine("--name local-2").Intersect(ProcessTable.FindByCommandLine(data)));
            using (var process = global::System.Diagnostics.Process.GetProcessById(victim))
            {
                process.Kill();
            }
            await Eventually.Until(async () =>
            {
                nodes = await ListNodesAsync(env);
                var lost = nodes.Single(n => n.Name == "local-2");
                return lost.Status("Ready") != "True" && lost.Reason("Ready") == "NodeStatusUnknown";
            }, TimeSpan.FromSeconds(15), "local-2 is not Ready with reason NodeStatusUnknown", () => Describe(nodes, up));
            Assert.Equal("True", nodes.Single(n => n.Name == "local-1").Status("Ready"));
            await up.WaitForOutputAsync("node local-2 exited", TimeSpan.FromSeconds(10));

            up.SendSignal(Signals.Terminate);
            Assert.Equal(0, await up.WaitForExitAsync(TimeSpan.FromSeconds(10)));
            var left = Family(data, up.Id);
            Assert.True(left.Count == 0, $"processes left after SIGTERM:\n{ProcessTable.Describe(left)}");
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
            Assert.All(children, p => Assert.Contains($"--exit-with-parent {up.Id}", ProcessTable.CommandLine(p) ?? "", StringComparison.Ordinal));

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

    /// <summary>Processes of one `atoll up`: those naming its data dir and those watching its pid (simulators name neither port nor dir).</summary>
    private static List<int> Family(string data, int upPid) =>
        [.. ProcessTable.FindByCommandLine(data).Union(ProcessTable.FindByCommandLine($"--exit-with-parent {upPid}"))];

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
