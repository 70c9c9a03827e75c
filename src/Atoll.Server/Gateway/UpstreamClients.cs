using System.Net;

namespace Atoll.Server.Gateway;

/// <summary>
/// Shared HTTP clients to model servers: a bare <see cref="HttpMessageInvoker"/> for requests (as YARP's forwarder
/// uses: no overall timeout and no per-request linked cancellation source as <see cref="HttpClient"/> adds; each
/// attempt sets its own), and an <see cref="HttpClient"/> for probes. Pooled connections are recycled so DNS and
/// endpoint changes are seen.
/// </summary>
internal sealed class UpstreamClients : IDisposable
{
    public UpstreamClients()
    {
        Requests = new HttpMessageInvoker(Handler(), disposeHandler: true);
        Probe = new HttpClient(Handler(), disposeHandler: true) { Timeout = TimeSpan.FromSeconds(5) };
    }

    public HttpMessageInvoker Requests { get; }

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
        MaxConnectionsPerServer = int.MaxValue,
        EnableMultipleHttp2Connections = true,
        // No trace headers to model servers: nothing reads them, and writing them costs per request.
        ActivityHeadersPropagator = null,
    };
}
