using System.Net;
using Microsoft.Extensions.Options;

namespace Atoll.Server.Gateway;

/// <summary>
/// Clients to model servers: <see cref="Http1Upstream"/> for forwarded requests (with
/// <see cref="GatewayOptions.InlineIo"/> its connections complete their I/O on the socket event threads, see
/// <see cref="InlineIo"/>) and an <see cref="HttpClient"/> for health and metrics probes, which stays on the thread
/// pool. Pooled connections are recycled so DNS and endpoint changes are seen, and a few are kept warm per recently
/// used model server (<see cref="GatewayOptions.WarmConnections"/>).
/// </summary>
internal sealed class UpstreamClients : IDisposable
{
    public UpstreamClients(IOptions<GatewayOptions> options)
    {
        var settings = options.Value;
        Requests = new Http1Upstream(settings.InlineIo, settings.UpstreamIdleTimeout, warmConnections: settings.WarmConnections, epoll: settings.EpollUpstream);
        // A model server's /metrics is tens to hundreds of KB; a larger answer is refused, not buffered (the default
        // limit is 2 GB, and model servers run on machines Atoll does not trust).
        Probe = new HttpClient(Handler(), disposeHandler: true) { Timeout = TimeSpan.FromSeconds(5), MaxResponseContentBufferSize = MaxProbeAnswerBytes };
    }

    /// <summary>The largest /metrics answer the probe reads.</summary>
    public const int MaxProbeAnswerBytes = 4 * 1024 * 1024;

    public Http1Upstream Requests { get; }

    public HttpClient Probe { get; }

    public void Dispose()
    {
        Requests.Dispose();
        Probe.Dispose();
    }

    private static SocketsHttpHandler Handler() => new()
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
        // No trace headers to model servers: nothing reads them, and writing them costs per request.
        ActivityHeadersPropagator = null,
    };
}
