using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace Atoll.Server.Gateway;

/// <summary>
/// Keep-alive connections to one host and port, most recently used first. A pool with no connection whose host
/// carried no exchange for <see cref="Http1Upstream.WarmFor"/> is retired (<see cref="TryRetire"/>) and dropped
/// by its owner, so model servers that went away (nodes come and go all day) leave nothing behind.
/// </summary>
internal sealed class Http1Pool(Http1Upstream owner, string key, bool tls, string host, int port)
{
    private readonly Stack<Http1Connection> idle = new();
    private readonly Lock gate = new();
    private int open;
    private int warming;
    private readonly long createdAt = owner.Now;
    private long lastExchange;
    private long warmFailedAt;
    private bool closed;
    private volatile bool retired;
    private int warmAttempts;

    /// <summary>The owner's key for this pool: scheme, host and port.</summary>
    public string Key => key;

    public int Open => Volatile.Read(ref open);

    /// <summary>Whether the pool was let go (<see cref="TryRetire"/>): it keeps no connection, its owner has a new one for the host.</summary>
    public bool Retired => retired;

    /// <summary>Warm connections being opened in the background.</summary>
    public int Warming => Volatile.Read(ref warming);

    /// <summary>Warm connections this pool started to open, since it was made.</summary>
    public int WarmAttempts => Volatile.Read(ref warmAttempts);

    public int Idle
    {
        get
        {
            lock (gate)
            {
                return idle.Count;
            }
        }
    }

    public Http1Connection? TryRent()
    {
        while (true)
        {
            Http1Connection? connection;
            lock (gate)
            {
                if (!idle.TryPop(out connection))
                {
                    return null;
                }
            }
            // A connection that is past its time, or that received bytes or a close while it rested, is closed
            // here rather than trusted with a request (Http1Connection.QuietSinceReturned).
            if (!owner.Expired(connection, owner.Now))
            {
                if (connection.QuietSinceReturned())
                {
                    return connection;
                }
                owner.CountIdleDrop();
            }
            connection.Dispose();
        }
    }

    public void Return(Http1Connection connection)
    {
        connection.LastUsed = owner.Now;
        connection.WatchIdle();
        lock (gate)
        {
            // Checked under the lock that closing and retiring take: nothing is pushed after the pool was emptied
            // for good (a connection that was opening as the pool retired is closed after its exchange).
            if (!closed && !owner.Disposed)
            {
                idle.Push(connection);
                return;
            }
        }
        connection.Dispose();
    }

    /// <summary>Called once by each connection when it closes.</summary>
    public void Closed() => Interlocked.Decrement(ref open);

    /// <summary>An exchange starts: the host counts as in use for <see cref="Http1Upstream.WarmFor"/>.</summary>
    public void MarkUsed()
    {
        // At most one write a second: every request passes here, from every event thread.
        var now = owner.Now;
        if (owner.Since(Volatile.Read(ref lastExchange), now) >= TimeSpan.FromSeconds(1))
        {
            Volatile.Write(ref lastExchange, now);
        }
    }

    /// <summary>
    /// When the host was used recently, opens connections in the background until
    /// <see cref="Http1Upstream.WarmConnections"/> idle ones will still be fresh at the next sweep.
    /// </summary>
    public void KeepWarm()
    {
        var used = Volatile.Read(ref lastExchange);
        var failed = Volatile.Read(ref warmFailedAt);
        var now = owner.Now;
        if (owner.WarmConnections == 0 || owner.Disposed || used == 0 || owner.Since(used, now) >= owner.WarmFor
            || (failed != 0 && owner.Since(failed, now) < owner.WarmRetryAfter))
        {
            return;
        }
        var fresh = 0;
        lock (gate)
        {
            foreach (var connection in idle)
            {
                if (!owner.ExpiresWithin(connection, now, owner.SweepEvery) && ++fresh == owner.WarmConnections)
                {
                    break;
                }
            }
        }
        for (var missing = owner.WarmConnections - fresh - Volatile.Read(ref warming); missing > 0; missing--)
        {
            Interlocked.Increment(ref warming);
            Interlocked.Increment(ref warmAttempts);
            _ = WarmAsync();
        }
    }

    private async Task WarmAsync()
    {
        try
        {
            Return(await ConnectAsync(owner.Stopping).ConfigureAwait(false));
        }
        catch (Exception)
        {
            // A background attempt: any failure only means no warm connection. The host may be down (its health
            // probe says so); try again later, not at every sweep.
            Volatile.Write(ref warmFailedAt, owner.Now);
        }
        finally
        {
            Interlocked.Decrement(ref warming);
        }
    }

    public async ValueTask<Http1Connection> ConnectAsync(CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(owner.ConnectTimeout);
        if (owner.Epoll && !tls)
        {
            EpollStream epoll;
            try
            {
                epoll = await EpollStream.ConnectAsync(host, port, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                throw ConnectFailed(e, ct);
            }
            // Inline only once connected, as below.
            epoll.Inline = owner.InlineIo;
            Interlocked.Increment(ref open);
            return new Http1Connection(this, epoll, owner.Now);
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream stream;
        try
        {
            await socket.ConnectAsync(new DnsEndPoint(host, port), timeout.Token).ConfigureAwait(false);
            stream = new NetworkStream(socket, ownsSocket: true);
        }
        catch (Exception e)
        {
            socket.Dispose();
            throw ConnectFailed(e, ct);
        }
        if (tls)
        {
            var secure = new SslStream(stream, leaveInnerStreamOpen: false);
            try
            {
                var options = new SslClientAuthenticationOptions { TargetHost = host, RemoteCertificateValidationCallback = owner.ValidateCertificate };
                await secure.AuthenticateAsClientAsync(options, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                await secure.DisposeAsync().ConfigureAwait(false);
                throw ConnectFailed(e, ct);
            }
            stream = secure;
        }
        // Inline only once connected: the connect and the TLS handshake (warm connections are opened every few
        // seconds) complete on the thread pool, never on an event thread that forwards requests.
        if (owner.InlineIo)
        {
            Gateway.InlineIo.TrySet(socket, inline: true);
        }
        Interlocked.Increment(ref open);
        return new Http1Connection(this, stream, owner.Now);
    }

    /// <summary>
    /// Retires the pool when it has no connection (open, idle or being opened to keep warm) and its host carried no
    /// exchange for <see cref="Http1Upstream.WarmFor"/>; true when it did. A retired pool keeps nothing: a connection
    /// it still opens (for an exchange that started just before) is closed when the exchange ends.
    /// </summary>
    public bool TryRetire()
    {
        var now = owner.Now;
        lock (gate)
        {
            if (closed || Open != 0 || Warming != 0 || idle.Count != 0
                || owner.Since(Math.Max(Volatile.Read(ref lastExchange), createdAt), now) < owner.WarmFor)
            {
                return false;
            }
            closed = true;
            retired = true;
            return true;
        }
    }

    /// <summary>A new, empty pool for the same host (this one retired).</summary>
    public Http1Pool Successor() => new(owner, key, tls, host, port);

    /// <summary>Closes idle connections past their idle time or lifetime, or all of them for good (shutdown).</summary>
    public void CloseIdle(bool all)
    {
        List<Http1Connection>? closing = null;
        var now = owner.Now;
        lock (gate)
        {
            closed |= all;
            if (idle.Count == 0)
            {
                return;
            }
            var kept = idle.ToArray(); // most recent first
            idle.Clear();
            for (var i = kept.Length - 1; i >= 0; i--)
            {
                if (all || owner.Expired(kept[i], now))
                {
                    (closing ??= []).Add(kept[i]);
                }
                else
                {
                    idle.Push(kept[i]);
                }
            }
        }
        closing?.ForEach(c => c.Dispose());
    }

    /// <summary>
    /// The exception for a failed connect. Its message says what failed but not where (the runtime's socket messages
    /// name the address): it may reach API clients, and the model server's address stays inside the fleet; callers
    /// know the endpoint, and the runtime's exception is kept as the inner one.
    /// </summary>
    private Exception ConnectFailed(Exception e, CancellationToken ct) => e switch
    {
        OperationCanceledException when ct.IsCancellationRequested => e,
        OperationCanceledException => new UpstreamException($"no connection within {owner.ConnectTimeout.TotalSeconds:0.#}s", connecting: true),
        SocketException s => new UpstreamException(s.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => "connection refused",
            SocketError.TimedOut => "connection timed out",
            SocketError.HostUnreachable => "host unreachable",
            SocketError.NetworkUnreachable => "network unreachable",
            SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host name not found",
            SocketError.ConnectionReset => "connection reset",
            var code => $"connect failed ({code})",
        }, connecting: true, e),
        IOException or AuthenticationException => new UpstreamException(
            $"{(e is AuthenticationException ? "TLS failed: " : "")}{e.Message}", connecting: true, e),
        _ => e,
    };
}
