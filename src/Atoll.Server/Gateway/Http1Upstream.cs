using System.Collections.Concurrent;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;

namespace Atoll.Server.Gateway;

/// <summary>
/// The gateway's HTTP/1.1 client to model servers: pooled keep-alive connections per host, one POST per exchange.
/// It replaces <see cref="SocketsHttpHandler"/> on the forwarding path because a proxy needs none of what that
/// general client builds per request (a request and a response message, header collections, a URI per request,
/// a pool lookup under a lock): here a request is one write of a pre-built head plus the body, and the answer's
/// body is handed on straight out of the connection's read buffer. http and https (TLS over the same framing).
/// <para>
/// A pooled connection the server closed while it was idle (uvicorn, which vLLM runs on, closes idle connections
/// after 5 s) fails before any byte of an answer; the exchange is then sent once more, on a new connection (never
/// a third time), as <see cref="SocketsHttpHandler"/> retries such failures a bounded number of times. Idle
/// connections are closed after <see cref="IdleTimeout"/> (shorter than uvicorn's) and any after
/// <see cref="Lifetime"/>, so DNS and endpoint changes are seen.
/// </para>
/// <para>
/// Because idle connections live only seconds, a request after a quiet spell would wait for a new connection: a
/// round trip to a model server in another region, two or three with TLS. So each host that carried an exchange
/// in the last <see cref="WarmFor"/> keeps <see cref="WarmConnections"/> connections open, replaced shortly before
/// they would expire; a host that refuses is left alone for <see cref="WarmRetryAfter"/>. A host with no connection
/// left and no exchange for <see cref="WarmFor"/> loses its pool (nodes come and go, and each new one is a new host);
/// a target of it makes a new pool at its next exchange.
/// </para>
/// </summary>
internal sealed class Http1Upstream : IDisposable
{
    private readonly ConcurrentDictionary<string, Http1Pool> pools = new(StringComparer.Ordinal);
    private readonly ConditionalWeakTable<Uri, Http1Target> targets = [];
    private readonly ITimer sweeper;
    private readonly TimeProvider time;
    private readonly CancellationTokenSource stopping = new();
    private readonly long idleTicks, lifetimeTicks; // IdleTimeout and Lifetime in the time provider's timestamp units
    private int sweeping;
    private long idleDrops;

    /// <param name="idleTimeout">Idle connections are closed after this (default 4 s, under uvicorn's 5 s).</param>
    /// <param name="warmConnections">Connections kept open to each recently used host (0: none).</param>
    /// <param name="warmFor">How long after its last exchange a host is kept warm (default 10 minutes).</param>
    /// <param name="epoll">Plain connections on the gateway's own epoll loops where supported (<see cref="Epoll"/>).</param>
    public Http1Upstream(
        bool inlineIo, TimeSpan? idleTimeout = null, TimeProvider? time = null, RemoteCertificateValidationCallback? validateCertificate = null,
        int warmConnections = 0, TimeSpan? warmFor = null, bool epoll = true)
    {
        Epoll = epoll && EpollStream.Supported;
        WarmFor = warmFor ?? TimeSpan.FromMinutes(10);
        InlineIo = inlineIo;
        IdleTimeout = idleTimeout ?? DefaultIdleTimeout;
        ValidateCertificate = validateCertificate;
        WarmConnections = warmConnections;
        this.time = time ?? TimeProvider.System;
        Stopping = stopping.Token;
        // Four sweeps per idle timeout: an idle connection is replaced before it expires, not after.
        SweepEvery = IdleTimeout / 4;
        idleTicks = Ticks(IdleTimeout);
        lifetimeTicks = Ticks(Lifetime);
        sweeper = this.time.CreateTimer(static s => ((Http1Upstream)s!).Sweep(), this, SweepEvery, SweepEvery);
    }

    public static TimeSpan DefaultIdleTimeout { get; } = TimeSpan.FromSeconds(4);

    /// <summary>
    /// Pooled connections closed instead of reused because something arrived on them while idle: bytes after an
    /// answer, or the server's close (<see cref="Http1Connection.QuietSinceReturned"/>). A count that grows with the
    /// requests points at a model server that writes after its answers or closes idle connections early.
    /// </summary>
    public long IdleDrops => Interlocked.Read(ref idleDrops);

    /// <summary>Counts one <see cref="IdleDrops"/>.</summary>
    public void CountIdleDrop() => Interlocked.Increment(ref idleDrops);

    /// <summary>Whether connections complete their I/O on the socket event threads (<see cref="Gateway.InlineIo"/>).</summary>
    public bool InlineIo { get; }

    /// <summary>
    /// Whether plain (not TLS) connections go on the gateway's own epoll loops (<see cref="EpollStream"/>) instead of
    /// the runtime's sockets: asked for and supported here.
    /// </summary>
    public bool Epoll { get; }

    public TimeSpan ConnectTimeout { get; } = TimeSpan.FromSeconds(5);

    public TimeSpan IdleTimeout { get; }

    public TimeSpan Lifetime { get; } = TimeSpan.FromMinutes(5);

    public TimeSpan SweepEvery { get; }

    /// <summary>Connections kept open to each host that carried an exchange in the last <see cref="WarmFor"/>.</summary>
    public int WarmConnections { get; }

    public TimeSpan WarmFor { get; }

    /// <summary>After a failed attempt to open a warm connection, the host is not warmed for this long.</summary>
    public TimeSpan WarmRetryAfter { get; } = TimeSpan.FromSeconds(30);

    /// <summary>Certificate check for https model servers; null is the system's default validation.</summary>
    public RemoteCertificateValidationCallback? ValidateCertificate { get; }

    public bool Disposed => stopping.IsCancellationRequested;

    /// <summary>Cancelled by <see cref="Dispose"/>: background connects stop with it.</summary>
    public CancellationToken Stopping { get; }

    /// <summary>Open connections to all hosts, idle or busy.</summary>
    public int OpenConnections => pools.Values.Sum(p => p.Open);

    /// <summary>Hosts with a pool: used in the last <see cref="WarmFor"/>, or still holding connections.</summary>
    public int Hosts => pools.Count;

    public long Now => time.GetTimestamp();

    /// <summary>Whether <paramref name="connection"/> is past its idle timeout or lifetime (checked at every rent: no <see cref="TimeSpan"/> math).</summary>
    public bool Expired(Http1Connection connection, long now) => now - connection.LastUsed >= idleTicks || now - connection.CreatedAt >= lifetimeTicks;

    /// <summary>Whether <paramref name="connection"/> is expired or will be within <paramref name="margin"/>.</summary>
    public bool ExpiresWithin(Http1Connection connection, long now, TimeSpan margin) => Expired(connection, now + Ticks(margin));

    /// <summary><paramref name="span"/> in <see cref="Now"/>'s units.</summary>
    private long Ticks(TimeSpan span) => (long)(span.Ticks * ((double)time.TimestampFrequency / TimeSpan.TicksPerSecond));

    /// <summary>Elapsed time since <paramref name="then"/>, a <see cref="Now"/> reading.</summary>
    public TimeSpan Since(long then, long now) => time.GetElapsedTime(then, now);

    /// <summary>Where POSTs to <paramref name="url"/> go, built once per URL instance (endpoints cache theirs).</summary>
    public Http1Target Target(Uri url) =>
        targets.TryGetValue(url, out var target) ? target : targets.GetValue(url, u => CreateTarget(u));

    public void Dispose()
    {
        stopping.Cancel();
        sweeper.Dispose();
        foreach (var pool in pools.Values)
        {
            pool.CloseIdle(all: true);
        }
        stopping.Dispose();
    }

    private Http1Target CreateTarget(Uri url)
    {
        if (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException($"Model server URL {url} is neither http nor https.", nameof(url));
        }
        var host = url.IdnHost.Trim('[', ']');
        var hostHeader = url.HostNameType == UriHostNameType.IPv6 ? $"[{host}]" : host;
        if (!url.IsDefaultPort)
        {
            hostHeader += ":" + url.Port;
        }
        var pool = pools.GetOrAdd($"{url.Scheme}://{hostHeader}", key => new Http1Pool(this, key, url.Scheme == Uri.UriSchemeHttps, host, url.Port));
        var head = Encoding.ASCII.GetBytes($"POST {url.PathAndQuery} HTTP/1.1\r\nHost: {hostHeader}\r\nContent-Type: application/json\r\nContent-Length: ");
        return new Http1Target(this, pool, head);
    }

    /// <summary>The pool now serving <paramref name="retired"/>'s host, made anew if the sweep has not dropped the old one yet.</summary>
    internal Http1Pool Successor(Http1Pool retired)
    {
        var pool = retired;
        while (pool.Retired)
        {
            pools.TryRemove(KeyValuePair.Create(pool.Key, pool));
            pool = pools.GetOrAdd(pool.Key, static (_, old) => old.Successor(), pool);
        }
        return pool;
    }

    private void Sweep()
    {
        // Timer callbacks may overlap when the thread pool is slow; one sweep at a time counts what it opens.
        if (Interlocked.Exchange(ref sweeping, 1) == 1)
        {
            return;
        }
        try
        {
            foreach (var (key, pool) in pools)
            {
                pool.KeepWarm();
                pool.CloseIdle(all: false);
                if (pool.TryRetire())
                {
                    pools.TryRemove(KeyValuePair.Create(key, pool));
                }
            }
        }
        finally
        {
            Volatile.Write(ref sweeping, 0);
        }
    }
}

/// <summary>One URL's pool and pre-built request head.</summary>
internal sealed class Http1Target(Http1Upstream owner, Http1Pool pool, byte[] head)
{
    private Http1Pool pool = pool;

    /// <summary>The pool of the last exchange (replaced at the next one if it has retired since).</summary>
    public Http1Pool Pool => pool;

    /// <summary>
    /// How soon after its request a pooled connection's failure means it was stale (closed by the server while idle,
    /// which shows at once: the close was already there, or a reset comes back within a round trip). A failure later
    /// than this happened while the server had the request, perhaps working on it: it is not sent again here.
    /// </summary>
    internal static readonly TimeSpan StaleWindow = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Sends the POST and reads the answer's head; the caller reads the body and then calls
    /// <see cref="Http1Connection.Release"/>. A pooled connection (reused or kept warm) that fails before any answer
    /// byte and within <see cref="StaleWindow"/> of the send was stale: the exchange goes once more, on a new connection.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<Http1Connection> ExchangeAsync(ReadOnlyMemory<byte> body, bool eventStream, CancellationToken ct)
    {
        var pool = this.pool;
        if (pool.Retired)
        {
            this.pool = pool = owner.Successor(pool);
        }
        pool.MarkUsed();
        var fresh = false;
        while (true)
        {
            // After a stale pooled connection, a new one: a server that reads requests and drops them without an
            // answer gets this one twice at most, not once per idle connection of the pool.
            var pooled = fresh ? null : pool.TryRent();
            var connection = pooled ?? await pool.ConnectAsync(ct).ConfigureAwait(false);
            var sending = Environment.TickCount64;
            // A pooled connection's first read is the one it started when it went idle, without a token.
            var closable = connection.IdleReading;
            var closeOnCancel = connection.CloseOnCancel(ct);
            try
            {
                await connection.SendAsync(head, body, eventStream, ct).ConfigureAwait(false);
                while (!connection.TryReadHead())
                {
                    if (!connection.Filled(await connection.ReadMoreAsync(ct).ConfigureAwait(false)))
                    {
                        throw connection.HeadCutOff();
                    }
                }
                closeOnCancel.Dispose();
                if (closable)
                {
                    // Cancelled just as the head came, the connection may be closed: the exchange cannot go on.
                    ct.ThrowIfCancellationRequested();
                }
                return connection;
            }
            catch (Exception e) when ((e is IOException or SocketException) && pooled is not null && !connection.ReceivedAny
                                      && Environment.TickCount64 - sending < StaleWindow.TotalMilliseconds && !ct.IsCancellationRequested)
            {
                closeOnCancel.Dispose();
                connection.Dispose();
                fresh = true;
            }
            catch (Exception e) when (ct.IsCancellationRequested && e is not OperationCanceledException)
            {
                // The token closed the connection under a read or send (CloseOnCancel): the failure is the cancellation.
                closeOnCancel.Dispose();
                connection.Dispose();
                throw new OperationCanceledException("The exchange was cancelled while it waited for the answer.", e, ct);
            }
            catch
            {
                closeOnCancel.Dispose();
                connection.Dispose();
                throw;
            }
        }
    }
}
