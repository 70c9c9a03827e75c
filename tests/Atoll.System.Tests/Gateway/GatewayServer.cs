using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Atoll.Testing.Processes;

namespace Atoll.System.Tests.Gateway;

/// <summary>
/// A real <c>atoll server</c> whose gateway routes to static <c>--endpoint</c>s (no agents), started once every one
/// of them passed its first health probe, plus what the tests do through it: chat requests, metrics, API keys.
/// </summary>
internal sealed class GatewayServer : IAsyncDisposable
{
    private GatewayServer(AtollProcess process, int port, string adminToken)
    {
        Process = process;
        Port = port;
        AdminToken = adminToken;
        Http = new HttpClient { BaseAddress = new Uri(Url + "/"), Timeout = TimeSpan.FromSeconds(30) };
        Forward = new HttpClient { BaseAddress = new Uri(Url + "/"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public AtollProcess Process { get; }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    public string AdminToken { get; }

    /// <summary>
    /// A client without default credentials: each request says who it is. Its connections carry control and metrics
    /// requests, which are Kestrel's, and Kestrel keeps a connection it has been handed: a forwarded request sent on
    /// one of them is Kestrel's too. <see cref="PostChatAsync"/> uses <see cref="Forward"/> instead.
    /// </summary>
    public HttpClient Http { get; }

    /// <summary>
    /// A client for forwarded requests only (no default credentials). Its connections carry nothing else, so the
    /// gateway's HTTP/1.1 front serves them, as it serves an OpenAI SDK's; a chunked body would still be Kestrel's.
    /// </summary>
    public HttpClient Forward { get; }

    /// <summary>
    /// A client of one connection that Kestrel serves: its first request (GET /metrics) is Kestrel's, and the front
    /// hands a connection over for good. Checked by the answer's <c>Server: Kestrel</c> header; a test whose answer
    /// cannot show it (the client left first) checks <see cref="KestrelClient.Connections"/> instead.
    /// </summary>
    public async Task<KestrelClient> KestrelClientAsync()
    {
        var client = new KestrelClient(new Uri(Url + "/"));
        using var metrics = await client.GetAsync(new Uri("metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.True(AnsweredByKestrel(metrics), "GET /metrics was not answered by Kestrel");
        return client;
    }

    /// <summary>Kestrel sends <c>Server: Kestrel</c>; the gateway's front sends no Server header.</summary>
    public static bool AnsweredByKestrel(HttpResponseMessage response) =>
        response.Headers.Server.ToString().Contains("Kestrel", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Starts <c>atoll server</c> (1 s heartbeats, for agents) with one <c>--endpoint</c> per sim of
    /// <paramref name="sims"/> and <paramref name="extra"/> flags, then waits until those endpoints are up
    /// (routable) according to the gateway's own metrics.
    /// </summary>
    public static async Task<GatewayServer> StartAsync(string dataDir, IReadOnlyList<RunningSim> sims, params string[] extra)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePorts.Next();
            List<string> args = ["server", "--listen", $"http://127.0.0.1:{port}", "--data", dataDir, "--heartbeat-interval", "1s", .. ProcessWait.ExitWithTestHost];
            foreach (var sim in sims)
            {
                args.AddRange(["--endpoint", sim.EndpointArgument]);
                // What x-atoll-endpoint and the metrics call it: static/MODEL, and a short hash of the URL when
                // several sims serve the model (the gateway's EndpointRegistry.PublicName).
                sim.EndpointId = sims.Count(s => s.Model == sim.Model) == 1
                    ? $"static/{sim.Model}"
                    : $"static/{sim.Model}/{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sim.Url + "/")))[..6]}";
            }
            args.AddRange(extra);
            var process = AtollCli.Start(args, logPath: dataDir + ".log");
            try
            {
                using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
                await ProcessWait.UntilAsync(process, async () =>
                {
                    using var response = await probe.GetAsync(new Uri($"http://127.0.0.1:{port}/readyz"));
                    return response.StatusCode == HttpStatusCode.OK;
                }, RunningServer.StartTimeout, $"{process} answers GET /readyz with 200");
                var token = (await File.ReadAllTextAsync(Path.Combine(dataDir, "admin.token"))).Trim();
                var server = new GatewayServer(process, port, token);
                // The sims' endpoints and any more given as --endpoint in extra.
                await server.WaitEndpointsUpAsync(sims.Count + extra.Count(a => a == "--endpoint"), RunningServer.StartTimeout);
                return server;
            }
            catch (ProcessExitedException e) when (attempt < 3 && e.Output.Contains("address already in use", StringComparison.Ordinal))
            {
                await process.DisposeAsync();
            }
            catch
            {
                await process.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>Waits until <c>atoll_gateway_endpoint_up</c> sums to <paramref name="count"/> (probe passed, not ejected).</summary>
    public async Task WaitEndpointsUpAsync(int count, TimeSpan timeout)
    {
        // The gateway's series exist only once its request handler was first used: an unauthenticated request
        // creates them without reaching any endpoint.
        using (await PostChatAsync(Chat.Request("warm-up", 1), bearer: null))
        {
        }
        await ProcessWait.UntilAsync(Process, async () => Prometheus.Sum(await MetricsAsync(), "atoll_gateway_endpoint_up") == count,
            timeout, $"{count} gateway endpoint(s) are up");
    }

    /// <summary>Runs an atoll client command against this server as admin (ATOLL_SERVER/ATOLL_TOKEN set).</summary>
    public Task<ProcessResult> CliAsync(params string[] arguments) =>
        AtollCli.RunAsync(new Dictionary<string, string?> { ["ATOLL_SERVER"] = Url, ["ATOLL_TOKEN"] = AdminToken }, arguments);

    /// <summary>GET /metrics (Prometheus text, no auth).</summary>
    public Task<string> MetricsAsync() => Http.GetStringAsync(new Uri("metrics", UriKind.Relative));

    public async Task<double> MetricAsync(string name) => Prometheus.Sum(await MetricsAsync(), name);

    /// <summary>POST /v1/chat/completions with <paramref name="body"/> (any JSON-serialisable object) as <paramref name="bearer"/>.</summary>
    /// <remarks>Sent by <see cref="Forward"/> (the front) unless <paramref name="client"/> says otherwise.</remarks>
    public Task<HttpResponseMessage> PostChatAsync(object body, string? bearer, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead,
        HttpClient? client = null, CancellationToken ct = default) =>
        (client ?? Forward).SendAsync(ChatRequest(body, bearer), completion, ct);

    /// <summary>The request <see cref="PostChatAsync"/> sends: a body with a Content-Length, as the SDKs send it.</summary>
    public static HttpRequestMessage ChatRequest(object body, string? bearer)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body)) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        };
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }
        return request;
    }

    /// <summary>POST /api/v1/api-keys as admin; returns the plaintext key.</summary>
    public async Task<string> CreateApiKeyAsync(string name, int? rpm = null, int? tpm = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/api-keys") { Content = JsonContent.Create(new { name, rpm, tpm }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"creating API key {name} answered {(int)response.StatusCode}: {text}");
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.GetProperty("key").GetString()!;
    }

    /// <summary>
    /// Starts <c>atoll agent</c> for node <paramref name="node"/> reporting <paramref name="sim"/> as its model
    /// endpoint (<c>--model MODEL=URL</c>, one simulated GPU).
    /// </summary>
    public async Task<AtollProcess> StartAgentAsync(string node, RunningSim sim, string stateDir)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/join-tokens")
        {
            Content = JsonContent.Create(new { uses = 1, ttl = "10m", description = "gateway system test" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"creating a join token answered {(int)response.StatusCode}: {text}");
        using var doc = JsonDocument.Parse(text);
        var token = doc.RootElement.GetProperty("token").GetString()!;
        sim.EndpointId = $"{node}/{sim.Model}";
        return AtollCli.Start(
            ["agent", "--server", Url, "--name", node, "--state", stateDir, "--join-token", token, "--gpus", "1xH100-80GB", "--model", sim.EndpointArgument, .. ProcessWait.ExitWithTestHost],
            logPath: stateDir + ".log");
    }

    /// <summary>DELETE /api/v1/api-keys/NAME as admin.</summary>
    public async Task DeleteApiKeyAsync(string name)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"api/v1/api-keys/{Uri.EscapeDataString(name)}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        using var response = await Http.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.NoContent,
            $"deleting API key {name} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        Forward.Dispose();
        await Process.DisposeAsync();
    }
}

/// <summary>
/// An HttpClient of at most one connection at a time that counts the connections it opened: a test that must stay on
/// the connection Kestrel was handed asserts <see cref="Connections"/> is 1 (a second one would be the front's).
/// </summary>
internal sealed class KestrelClient : HttpClient
{
    private readonly StrongBox<int> opened;

    public KestrelClient(Uri baseAddress)
        : this(baseAddress, new StrongBox<int>())
    {
    }

    private KestrelClient(Uri baseAddress, StrongBox<int> opened)
        : base(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1,
            ConnectCallback = async (context, ct) =>
            {
                Interlocked.Increment(ref opened.Value);
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        })
    {
        this.opened = opened;
        BaseAddress = baseAddress;
        Timeout = TimeSpan.FromSeconds(30);
    }

    /// <summary>Connections opened so far.</summary>
    public int Connections => Volatile.Read(ref opened.Value);
}
