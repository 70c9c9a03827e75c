using Atoll.Core.Contracts;
using Atoll.Core.Routing;

namespace Atoll.Server.Gateway;

/// <summary>Settings of the OpenAI-compatible gateway in <c>atoll server</c>; defaults suit one machine and a WAN fleet.</summary>
public sealed class GatewayOptions
{
    /// <summary>Attempts per request (the first plus retries on other endpoints) before the first response byte.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Per attempt: time allowed until the upstream answers with its headers; a hung backend costs no more.</summary>
    public TimeSpan FirstByteTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Non-streaming: the slowest generation a model server is allowed. A model server sends a non-streaming
    /// answer's headers only once it has generated all of it, so such an attempt may wait <see cref="FirstByteTimeout"/>
    /// plus its <c>max_tokens</c> at this rate (10 tokens/s: a 1,000-token answer gets 30 s + 100 s); one without
    /// <c>max_tokens</c> may wait up to <see cref="ResponseTimeout"/>.
    /// </summary>
    public int MinTokensPerSecond { get; set; } = 10;

    /// <summary>Per attempt, non-streaming: the longest an answer may take, headers and body (see <see cref="MinTokensPerSecond"/>).</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Streaming: the longest silence between two chunks before the stream is ended with an error event.</summary>
    public TimeSpan StreamIdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Streaming: the longest a stream may last once its answer began, however steadily it trickles (a model server
    /// that sends a comment or a token every minute would otherwise hold the client and an endpoint slot for ever).
    /// A request with <c>max_tokens</c> gets less when that is shorter: the longer of <see cref="FirstByteTimeout"/>
    /// and <see cref="StreamIdleTimeout"/> for the queue and prefill (vLLM sends a stream's headers at once), plus
    /// its tokens at <see cref="MinTokensPerSecond"/> (see <see cref="StreamTimeoutFor"/>).
    /// </summary>
    public TimeSpan StreamTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long a stream of a request with <paramref name="maxTokens"/> may last once its answer began.</summary>
    internal TimeSpan StreamTimeoutFor(int? maxTokens)
    {
        if (maxTokens is not { } tokens)
        {
            return StreamTimeout;
        }
        var start = FirstByteTimeout > StreamIdleTimeout ? FirstByteTimeout : StreamIdleTimeout;
        var allowed = start + TimeSpan.FromSeconds((double)tokens / MinTokensPerSecond);
        return allowed < StreamTimeout ? allowed : StreamTimeout;
    }

    /// <summary>How long one attempt may wait for the answer's headers: a stream's first chunk, or a whole non-streaming answer.</summary>
    internal TimeSpan FirstByteTimeoutFor(bool stream, GatewayRoute route, int? maxTokens)
    {
        if (stream || route == GatewayRoute.Embeddings)
        {
            return FirstByteTimeout;
        }
        var allowed = maxTokens is { } tokens ? FirstByteTimeout + TimeSpan.FromSeconds((double)tokens / MinTokensPerSecond) : ResponseTimeout;
        return allowed < FirstByteTimeout ? FirstByteTimeout : allowed > ResponseTimeout ? ResponseTimeout : allowed;
    }

    /// <summary>Requests that may wait when every endpoint of their model is saturated; more get 429.</summary>
    public int MaxQueuedRequests { get; set; } = 1024;

    /// <summary>How long a request waits for a free endpoint before 429 with Retry-After.</summary>
    public TimeSpan QueueTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest request body accepted on /v1 (413 above).</summary>
    public long MaxBodyBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Largest non-streaming upstream answer the gateway buffers (it buffers so a broken body is never a 200).</summary>
    public long MaxResponseBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Concurrent requests per endpoint before it counts as saturated (vLLM's max-num-seqs is a fair value).</summary>
    public int EndpointCapacity { get; set; } = RoutableEndpoint.DefaultCapacity;

    /// <summary>How often each endpoint's /health is probed and its /metrics scraped.</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the endpoint list is refreshed from the node registry.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Forwarded requests run on the socket event threads instead of the thread pool (see <see cref="InlineIo"/>):
    /// far less CPU and latency per request; off restores the runtime's default scheduling.
    /// </summary>
    public bool InlineIo { get; set; } = true;

    /// <summary>
    /// Plain-HTTP connections to model servers run on the gateway's own epoll loops (<see cref="EpollStream"/>,
    /// Linux x86-64) instead of the runtime's sockets: no read before its bytes are there, less CPU per request. TLS
    /// connections, and other platforms, stay on the runtime's sockets.
    /// </summary>
    public bool EpollUpstream { get; set; } = true;

    /// <summary>
    /// The server's TCP endpoints take their client connections on the gateway's own epoll loops
    /// (<see cref="EpollTransportFactory"/>, Linux x86-64) instead of Kestrel's socket transport: a connection is read
    /// only when it has bytes, and a forwarded request stays on one thread. Everything Kestrel does above its
    /// transport (TLS, HTTP/2, limits, the control API) is unchanged.
    /// </summary>
    public bool EpollClients { get; set; } = true;

    /// <summary>
    /// Plain HTTP/1.1 forwarded requests are served by the gateway's own lean HTTP/1.1 server in front of Kestrel
    /// (see <see cref="Http1Front"/>); off, Kestrel serves every request.
    /// </summary>
    public bool Http1Front { get; set; } = true;

    /// <summary>
    /// A pooled connection to a model server is closed after this long unused. Keep it under the server's own
    /// keep-alive timeout (uvicorn, which vLLM runs on: 5 s), or requests meet connections the server just closed.
    /// </summary>
    public TimeSpan UpstreamIdleTimeout { get; set; } = Http1Upstream.DefaultIdleTimeout;

    /// <summary>
    /// Connections kept open to each model server used in the last 10 minutes, so a request after a quiet spell
    /// does not wait for a new connection (a WAN round trip, more with TLS); 0 opens connections only on demand.
    /// </summary>
    public int WarmConnections { get; set; } = 1;

    /// <summary>Where this gateway runs; endpoints at the same location count as nearest.</summary>
    public string? Location { get; set; }

    /// <summary>Endpoints that are not reported by any agent (<c>--endpoint MODEL=URL</c>).</summary>
    public List<ModelEndpoint> StaticEndpoints { get; set; } = [];

    public PickerOptions Picker { get; set; } = new();

    public RetryBudgetOptions RetryBudget { get; set; } = new();

    public EjectionOptions Ejection { get; set; } = new();

    /// <summary>The longest any timeout may be set to: a timer cannot wait more than about 49 days.</summary>
    internal static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(7);

    /// <summary>Problems with these settings, each naming its setting; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>(Picker.Validate());
        if (MaxAttempts is < 1 or > 10)
        {
            problems.Add($"gateway max attempts {MaxAttempts}: expected 1 to 10");
        }
        foreach (var (name, value) in new[]
        {
            ("--first-byte-timeout", FirstByteTimeout), ("gateway response timeout", ResponseTimeout),
            ("--stream-idle-timeout", StreamIdleTimeout), ("--stream-timeout", StreamTimeout),
        })
        {
            if (value <= TimeSpan.Zero || value > MaxTimeout)
            {
                problems.Add($"{name} {value.TotalSeconds:0.###}s: expected a positive duration up to {MaxTimeout.TotalDays:0} days");
            }
        }
        if (QueueTimeout < TimeSpan.Zero)
        {
            problems.Add($"gateway queue timeout {QueueTimeout.TotalSeconds:0.###}s: expected 0 or more");
        }
        if (MaxBodyBytes < 1 || MaxBodyBytes > Array.MaxLength)
        {
            problems.Add($"gateway max body bytes {MaxBodyBytes}: expected 1 to {Array.MaxLength} (a body is held in one array)");
        }
        if (MinTokensPerSecond < 1)
        {
            problems.Add($"--min-tokens-per-second {MinTokensPerSecond}: expected 1 or more");
        }
        if (EndpointCapacity < 1)
        {
            problems.Add($"gateway endpoint capacity {EndpointCapacity}: expected at least 1");
        }
        if (UpstreamIdleTimeout < TimeSpan.FromSeconds(1))
        {
            problems.Add($"gateway upstream idle timeout {UpstreamIdleTimeout.TotalSeconds:0.###}s: expected at least 1s");
        }
        if (WarmConnections is < 0 or > 16)
        {
            problems.Add($"gateway warm connections {WarmConnections}: expected 0 to 16 per model server");
        }
        return problems;
    }
}
