using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Atoll.Server.Gateway;

/// <summary>
/// Shared HTTP clients to model servers: a bare <see cref="HttpMessageInvoker"/> for requests (as YARP's forwarder
/// uses: no overall timeout and no per-request linked cancellation source as <see cref="HttpClient"/> adds; each
/// attempt sets its own), and an <see cref="HttpClient"/> for probes. Pooled connections are recycled so DNS and
/// endpoint changes are seen. With <see cref="GatewayOptions.InlineIo"/> the request connections complete their
/// I/O on the socket event threads (<see cref="InlineIo"/>); probes stay on the thread pool.
/// </summary>
internal sealed class UpstreamClients : IDisposable
{
    public UpstreamClients(IOptions<GatewayOptions> options)
    {
        var requests = Handler();
        if (options.Value.InlineIo)
        {
            requests.ConnectCallback = ConnectInlineAsync;
        }
        Requests = new HttpMessageInvoker(requests, disposeHandler: true);
        Probe = new HttpClient(Handler(), disposeHandler: true) { Timeout = TimeSpan.FromSeconds(5) };
    }

    public HttpMessageInvoker Requests { get; }

    public HttpClient Probe { get; }

    public void Dispose()
    {
        Requests.Dispose();
        Probe.Dispose();
    }

    /// <summary>As the handler's own connect (dual-mode socket, no Nagle), with the socket switched to inline I/O.</summary>
    private static async ValueTask<Stream> ConnectInlineAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            InlineIo.TrySet(socket, inline: true);
            await socket.ConnectAsync(context.DnsEndPoint, ct).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
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
