using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Atoll.Testing.Processes;

namespace Atoll.System.Tests;

/// <summary>
/// A real <c>atoll server</c> process on a free port with a 1 s heartbeat interval (nodes time out after 3 s),
/// plus what tests do with it: start agents, create join tokens, read nodes over the admin API, run CLI commands.
/// </summary>
internal sealed class RunningServer : IAsyncDisposable
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly HttpClient http;

    private RunningServer(AtollProcess process, string dataDir, int port, string adminToken)
    {
        Process = process;
        DataDir = dataDir;
        Port = port;
        AdminToken = adminToken;
        http = new HttpClient { BaseAddress = new Uri(Url + "/"), Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
    }

    public AtollProcess Process { get; }

    public string DataDir { get; }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    public string AdminToken { get; }

    /// <summary>Starts <c>atoll server</c> on <paramref name="port"/> with its data in <paramref name="dataDir"/> and waits for /readyz.</summary>
    public static async Task<RunningServer> StartAsync(string dataDir, int port, string logPath)
    {
        var process = AtollCli.Start(
            ["server", "--listen", $"http://127.0.0.1:{port}", "--data", dataDir, "--heartbeat-interval", "1s"], logPath: logPath);
        try
        {
            await WaitReadyAsync(process, port);
            var token = (await File.ReadAllTextAsync(Path.Combine(dataDir, "admin.token"))).Trim();
            return new RunningServer(process, dataDir, port, token);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>Polls GET /readyz until it answers 200; fails at once if the process exits.</summary>
    public static async Task WaitReadyAsync(AtollProcess process, int port)
    {
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Eventually.Until(async () =>
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{process} exited with code {process.ExitCode} before it was ready:\n{process.Tail()}");
            }
            using var response = await probe.GetAsync(new Uri($"http://127.0.0.1:{port}/readyz"));
            return response.StatusCode == HttpStatusCode.OK;
        }, StartTimeout, $"{process} answers GET /readyz with 200", process.Tail);
    }

    /// <summary>Environment that points CLI commands at this server.</summary>
    public IReadOnlyDictionary<string, string?> ClientEnvironment =>
        new Dictionary<string, string?> { ["ATOLL_SERVER"] = Url, ["ATOLL_TOKEN"] = AdminToken };

    /// <summary>Runs an atoll client command against this server (ATOLL_SERVER/ATOLL_TOKEN set).</summary>
    public Task<ProcessResult> CliAsync(params string[] arguments) => AtollCli.RunAsync(ClientEnvironment, arguments);

    /// <summary>Starts <c>atoll agent</c> for node <paramref name="name"/> keeping its credential in <paramref name="stateDir"/>.</summary>
    public AtollProcess StartAgent(string name, string stateDir, string? joinToken, params string[] extra)
    {
        List<string> args = ["agent", "--server", Url, "--name", name, "--state", stateDir];
        if (joinToken is not null)
        {
            args.AddRange(["--join-token", joinToken]);
        }
        args.AddRange(extra);
        return AtollCli.Start(args, logPath: stateDir + ".log");
    }

    /// <summary>POST /api/v1/join-tokens; returns the plaintext token.</summary>
    public async Task<string> CreateJoinTokenAsync(int uses)
    {
        using var response = await http.PostAsJsonAsync("api/v1/join-tokens", new { uses, ttl = "10m", description = "system test" });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"creating a join token answered {(int)response.StatusCode}: {body}");
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("token").GetString()!;
    }

    /// <summary>GET /api/v1/nodes/NAME, or null when the server answers 404.</summary>
    public async Task<NodeJson?> GetNodeAsync(string name)
    {
        using var response = await http.GetAsync($"api/v1/nodes/{Uri.EscapeDataString(name)}");
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"GET node {name} answered {(int)response.StatusCode}: {body}");
        }
        return NodeJson.From(body);
    }

    /// <summary>Waits until node <paramref name="name"/> exists and <paramref name="condition"/> holds for it.</summary>
    public async Task<NodeJson> WaitForNodeAsync(string name, Func<NodeJson, bool> condition, string what, TimeSpan timeout, AtollProcess? agent = null)
    {
        NodeJson? last = null;
        await Eventually.Until(async () =>
        {
            if (agent is { HasExited: true })
            {
                throw new InvalidOperationException($"{agent} exited with code {agent.ExitCode}:\n{agent.Tail()}");
            }
            last = await GetNodeAsync(name);
            return last is not null && condition(last);
        }, timeout, $"node {name} {what}", () => $"{last?.ToString() ?? "(no such node)"}{(agent is null ? "" : "\nagent output:\n" + agent.Tail())}");
        return last!;
    }

    /// <summary>
    /// Waits until the node is Ready=True and its agent holds its credential. The server marks a node Ready when it
    /// commits the registration, before the answer reaches the agent, which saves the credential only then: a test
    /// that stops the agent or the server as soon as the node is Ready would otherwise catch the agent between the
    /// two (seen under CI load: no credential file, no "Registered" line).
    /// </summary>
    public async Task<NodeJson> WaitReadyAsync(string name, AtollProcess agent)
    {
        var node = await WaitForNodeAsync(name, n => n.Status("Ready") == "True", "is Ready=True", TimeSpan.FromSeconds(45), agent);
        await Eventually.Until(() =>
        {
            var output = agent.Output;
            return Task.FromResult(output.Contains($"Registered as node {name} ", StringComparison.Ordinal)
                || output.Contains($"Using the saved credential of node {name} ", StringComparison.Ordinal));
        }, TimeSpan.FromSeconds(30), $"the agent of node {name} holds its credential", agent.Tail);
        return node;
    }

    public async ValueTask DisposeAsync()
    {
        http.Dispose();
        await Process.DisposeAsync();
    }
}
