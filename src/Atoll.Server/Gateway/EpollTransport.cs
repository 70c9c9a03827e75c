using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atoll.Server.Gateway;

/// <summary>
/// Kestrel's transport for the server's TCP endpoints on the gateway's own <see cref="EpollLoop"/>s
/// (<see cref="GatewayOptions.EpollClients"/>): each accepted connection is an <see cref="EpollConnection"/>.
/// Measured (bench/results/gateway-epoll-2026-12-02.md): a minimal .NET forward used 13 % less CPU per request on such
/// a transport than on the runtime's sockets. Other endpoints (Unix sockets, named pipes) and machines without the
/// loops stay on Kestrel's socket transport, which Kestrel picks when <see cref="CanBind"/> says no.
/// </summary>
internal sealed class EpollTransportFactory(IMemoryPoolFactory<byte>? pools = null, ILoggerFactory? loggers = null)
    : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint && EpollLoop.Available;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not IPEndPoint ip)
        {
            throw new NotSupportedException($"The epoll transport listens on TCP addresses only, not on {endpoint}.");
        }
        var pool = pools?.Create(new MemoryPoolOptions { Owner = "atoll-epoll" }) ?? MemoryPool<byte>.Shared;
        var logger = (ILogger?)loggers?.CreateLogger<EpollListener>() ?? NullLogger.Instance;
        return ValueTask.FromResult<IConnectionListener>(new EpollListener(ip, pool, logger));
    }
}

/// <summary>
/// One listening socket, on the runtime's sockets: connections arrive rarely next to their requests, and the runtime
/// does dual-mode IPv6, port 0 and the address-in-use error as Kestrel's own transport reports them. Each accepted
/// socket is handed to the loops.
/// </summary>
internal sealed class EpollListener : IConnectionListener
{
    /// <summary>Connections the kernel queues before they are accepted (Kestrel's socket transport uses 512 too).</summary>
    private const int Backlog = 512;

    /// <summary>How long accepting pauses when the process is out of descriptors or buffers.</summary>
    private static readonly TimeSpan OutOfResourcesPause = TimeSpan.FromMilliseconds(100);

    private readonly Socket listener;
    private readonly MemoryPool<byte> pool;
    private readonly ILogger logger;

    public EpollListener(IPEndPoint endpoint, MemoryPool<byte> pool, ILogger logger)
    {
        this.pool = pool;
        this.logger = logger;
        listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endpoint.Address.Equals(IPAddress.IPv6Any))
            {
                listener.DualMode = true; // [::] takes IPv4 clients too, as on Kestrel's socket transport
            }
            listener.Bind(endpoint);
            listener.Listen(Backlog);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            listener.Dispose();
            throw new AddressInUseException(e.Message, e);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        EndPoint = listener.LocalEndPoint!;
    }

    public EndPoint EndPoint { get; }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Socket accepted;
            try
            {
                accepted = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                return null; // unbound
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.OperationAborted)
            {
                return null; // unbound while waiting
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable)
            {
                // The connection stays queued; trying again at once would spin.
                logger.LogWarning("Cannot accept connections on {EndPoint}: {Error}; retrying in {Pause} ms",
                    EndPoint, e.SocketErrorCode, OutOfResourcesPause.TotalMilliseconds);
                await Task.Delay(OutOfResourcesPause, cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (SocketException)
            {
                continue; // a client that reset before it was accepted
            }
            try
            {
                return EpollConnection.Start(accepted, pool);
            }
            catch (Exception e) when (e is SocketException or IOException)
            {
                logger.LogDebug(e, "Dropped a connection on {EndPoint} as it was accepted", EndPoint);
                accepted.Dispose(); // it reset meanwhile, or the loop refused it: the next one
            }
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        listener.Dispose();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        listener.Dispose();
        if (pool != MemoryPool<byte>.Shared)
        {
            pool.Dispose();
        }
        return ValueTask.CompletedTask;
    }
}
