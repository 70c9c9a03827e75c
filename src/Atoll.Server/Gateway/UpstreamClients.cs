using System.Net;

namespace Atoll.Server.Gateway;

/// <summary>
/// Shared HTTP clients to model servers: one for requests (no overall timeout: each attempt sets its own), one
/// for probes. Pooled connections are recycled so DNS and endpoint changes are seen.
/// </summary>
internal sealed class UpstreamClients : IDisposable
{
    public UpstreamClients()
    {
        Requests = new HttpClient(Handler(), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        Probe = new HttpClient(Handler(), disposeHandler: true) { Timeout = TimeSpan.FromSeconds(5) };
    }

    public HttpClient Requests { get; }

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
    };
}
