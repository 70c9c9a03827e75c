using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Atoll.System.Tests.Gateway;
using Atoll.Testing.Processes;

namespace Atoll.System.Tests.Batch;

/// <summary>
/// <c>atoll up</c> by hand: one <c>atoll server</c> and N nodes, each an <c>atoll agent</c> serving a local
/// <c>atoll sim</c> (so each runs a batch worker). The server can be SIGKILLed and restarted on the same port, data
/// directory, store and object store; agents can be SIGKILLed. Disposing kills whatever still runs.
/// </summary>
internal sealed class BatchFleet : IAsyncDisposable
{
    public const string Model = "batch-sim";

    private readonly TempDirectory dir;
    private readonly List<string> serverArguments;
    private readonly IReadOnlyDictionary<string, string?> serverEnvironment;
    private readonly List<RunningSim> sims = [];
    private readonly List<AtollProcess> agents = [];
    private int serverStarts;

    private BatchFleet(TempDirectory dir, int port, List<string> serverArguments, IReadOnlyDictionary<string, string?> serverEnvironment)
    {
        this.dir = dir;
        Port = port;
        this.serverArguments = serverArguments;
        this.serverEnvironment = serverEnvironment;
        Api = new HttpClient { BaseAddress = new Uri(Url + "/"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    public string AdminToken { get; private set; } = "";

    public string DataDir => dir.Combine("server");

    /// <summary>The running (or last) server process.</summary>
    public AtollProcess Server { get; private set; } = null!;

    public IReadOnlyList<RunningSim> Sims => sims;

    public IReadOnlyList<AtollProcess> Agents => agents;

    /// <summary>An HTTP client of the server with the admin token as its API key.</summary>
    public HttpClient Api { get; }

    /// <summary>
    /// Starts <paramref name="nodes"/> sims (with <paramref name="simArguments"/>) and the server (with
    /// <paramref name="serverExtra"/>; <paramref name="environment"/> adds variables such as AWS credentials), then one
    /// agent per sim, and waits until every agent's batch worker runs.
    /// </summary>
    public static async Task<BatchFleet> StartAsync(TempDirectory dir, int nodes, string[] simArguments, string[] serverExtra,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var port = FreePorts.Next();
        List<string> args =
        [
            "server", "--listen", $"http://127.0.0.1:{port}", "--data", dir.Combine("server"), "--heartbeat-interval", "1s",
            .. serverExtra, .. ProcessWait.ExitWithTestHost,
        ];
        var fleet = new BatchFleet(dir, port, args, environment ?? new Dictionary<string, string?>());
        try
        {
            for (var i = 1; i <= nodes; i++)
            {
                fleet.sims.Add(RunningSim.Start(Model, $"sim-{i}", dir.Path, simArguments));
            }
            await fleet.StartServerAsync();
            await Task.WhenAll(fleet.sims.Select(s => s.WaitHealthyAsync()));
            for (var i = 1; i <= nodes; i++)
            {
                fleet.agents.Add(await fleet.StartAgentAsync($"node-{i}", fleet.sims[i - 1]));
            }
            foreach (var agent in fleet.agents)
            {
                await agent.WaitForOutputAsync("Batch worker for", RunningServer.StartTimeout);
            }
            return fleet;
        }
        catch
        {
            await fleet.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the server (again) on the same port and data, waits for /readyz and reads the admin token.</summary>
    public async Task StartServerAsync()
    {
        serverStarts++;
        Server = AtollCli.Start(serverArguments, serverEnvironment, dir.Combine($"server-{serverStarts}.log"));
        await RunningServer.WaitReadyAsync(Server, Port);
        AdminToken = (await File.ReadAllTextAsync(Path.Combine(DataDir, "admin.token"))).Trim();
        Api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
    }

    /// <summary>SIGKILL: no shutdown, leases stay in the store as they were.</summary>
    public async Task KillServerAsync()
    {
        Server.SendSignal(Signals.Kill);
        await Server.WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>SIGKILLs an agent and waits until it is gone (its sim stays up).</summary>
    public static async Task KillAsync(AtollProcess agent)
    {
        agent.SendSignal(Signals.Kill);
        await agent.WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    public async Task<string> UploadAsync(byte[] content, string filename = "input.jsonl")
    {
        using var form = new MultipartFormDataContent { { new StringContent("batch"), "purpose" } };
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/jsonl");
        form.Add(file, "file", filename);
        using var response = await Api.PostAsync("v1/files", form);
        return (await JsonAsync(response)).GetProperty("id").GetString()!;
    }

    public async Task<string> CreateBatchAsync(string fileId)
    {
        using var response = await Api.PostAsJsonAsync("v1/batches", new { input_file_id = fileId, endpoint = "/v1/chat/completions", completion_window = "24h" });
        return (await JsonAsync(response)).GetProperty("id").GetString()!;
    }

    public async Task<JsonElement> GetBatchAsync(string id)
    {
        using var response = await Api.GetAsync($"v1/batches/{id}");
        return await JsonAsync(response);
    }

    /// <summary>Polls the batch until <paramref name="condition"/> holds; fails at once if the server exits.</summary>
    public async Task<JsonElement> WaitForBatchAsync(string id, Func<JsonElement, bool> condition, string what, TimeSpan timeout)
    {
        JsonElement last = default;
        await ProcessWait.UntilAsync(Server, async () =>
        {
            last = await GetBatchAsync(id);
            return condition(last);
        }, timeout, $"batch {id} {what}; last seen {last}");
        return last;
    }

    /// <summary>The lines of a file's content (none for a null id).</summary>
    public async Task<List<JsonElement>> LinesAsync(string? fileId)
    {
        if (fileId is null)
        {
            return [];
        }
        using var response = await Api.GetAsync($"v1/files/{fileId}/content");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
    }

    public async ValueTask DisposeAsync()
    {
        Api.Dispose();
        foreach (var agent in agents)
        {
            await agent.DisposeAsync();
        }
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
        foreach (var sim in sims)
        {
            await sim.DisposeAsync();
        }
    }

    private async Task<AtollProcess> StartAgentAsync(string name, RunningSim sim)
    {
        using var response = await Api.PostAsJsonAsync("api/v1/join-tokens", new { uses = 1, ttl = "10m", description = "batch system test" });
        var token = (await JsonAsync(response, HttpStatusCode.Created)).GetProperty("token").GetString()!;
        var state = dir.Combine($"agent-{name}");
        return AtollCli.Start(
            ["agent", "--server", Url, "--name", name, "--state", state, "--join-token", token, "--gpus", "1xH100-80GB",
                "--model", $"{Model}={sim.Url}", .. ProcessWait.ExitWithTestHost],
            logPath: state + ".log");
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary><paramref name="count"/> chat requests c-1 … c-N for <see cref="Model"/>, each a different prompt.</summary>
    public static (byte[] Jsonl, Dictionary<string, string> Bodies) Input(int count, int maxTokens)
    {
        var text = new StringBuilder();
        var bodies = new Dictionary<string, string>(count);
        for (var i = 1; i <= count; i++)
        {
            var body = JsonSerializer.Serialize(new
            {
                model = Model,
                max_tokens = maxTokens,
                messages = new[] { new { role = "user", content = $"Request {i}: describe reef number {i * 7919 % 10007}." } },
            });
            bodies[$"c-{i}"] = body;
            text.Append($"{{\"custom_id\":\"c-{i}\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{body}}}\n");
        }
        return (Encoding.UTF8.GetBytes(text.ToString()), bodies);
    }
}
