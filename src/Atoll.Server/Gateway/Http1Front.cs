using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atoll.Server.Gateway;

/// <summary>
/// The gateway's own HTTP/1.1 server for forwarded requests, in front of Kestrel on the same port (a Kestrel
/// connection middleware). It looks at each request head before Kestrel does: a plain forwarded request
/// (<see cref="Http1RequestHead"/>) is answered here, straight from the connection's pipes, without Kestrel's
/// request parsing, HttpContext and response machinery, which cost more CPU per request than the forwarding itself
/// (bench/results/gateway-rawproxy-2026-11-30.md). The first request that is anything else gets the connection
/// handed to Kestrel with its bytes untouched, and Kestrel serves it and the rest of the connection as usual: the
/// control API, HTTP/2, TLS and every protocol error stay Kestrel's.
/// <para>
/// Kestrel's limits apply: head size and header count (a larger head goes to Kestrel, which refuses it), the
/// keep-alive timeout between requests, the request-headers timeout for the whole head from its first byte and as
/// the longest silence inside a body, and the minimum request body data rate (408 below it). A client that takes no
/// bytes of an answer for that same silence is disconnected. The API key is checked before the body is read, so a request without one costs no
/// body buffer. A server shutting down closes idle connections at once and busy ones after their answer.
/// </para>
/// </summary>
internal sealed class Http1Front(GatewayHandler handler, IOptions<GatewayOptions> options, IOptions<KestrelServerOptions> kestrel, ILogger<Http1Front> logger)
{
    /// <summary>Reads of one head before it goes to Kestrel instead: clients send a head in one or two segments.</summary>
    private const int MaxHeadReads = 4;

    private readonly bool inlineIo = options.Value.InlineIo;
    private readonly long maxBody = options.Value.MaxBodyBytes;
    private readonly int maxHeaderBytes = kestrel.Value.Limits.MaxRequestHeadersTotalSize;
    private readonly int maxHeaders = kestrel.Value.Limits.MaxRequestHeaderCount;
    private readonly TimeSpan keepAlive = kestrel.Value.Limits.KeepAliveTimeout;
    private readonly TimeSpan silence = kestrel.Value.Limits.RequestHeadersTimeout;
    private readonly MinDataRate? minBodyRate = kestrel.Value.Limits.MinRequestBodyDataRate;

    /// <summary>
    /// How long the body of a refused request (no valid key) is read and dropped after its 401, as Kestrel drains a
    /// body its application did not read (its RequestBodyDrainTimeout). Closing with the body still arriving would
    /// make the kernel reset the connection, which can destroy the 401 before the client reads it; a body that ends
    /// in time keeps the connection.
    /// </summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Serves <paramref name="connection"/> until it closes, or until a request for Kestrel arrives.</summary>
    public async Task ServeAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        try
        {
            await ServeRequestsAsync(connection, next).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            // The client reset (ConnectionResetException is an IOException) or the connection was aborted
            // (ConnectionAbortedException is an OperationCanceledException): it just ends, as Kestrel's own do,
            // without an error in the log.
        }
    }

    private async Task ServeRequestsAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var input = connection.Transport.Input;
        using var deadlines = new Http1Deadlines(
            connection, connection.Features.Get<IConnectionLifetimeNotificationFeature>(), connection.Features.Get<IConnectionHeartbeatFeature>(), silence);
        using var client = new Http1FrontClient(connection, deadlines);
        var inline = false;
        while (true)
        {
            ReadResult read;
            var idle = true;
            var examined = default(SequencePosition); // end of what a read that needed more bytes passed over
            HeadVerdict verdict;
            Http1RequestHead head;
            var headStarted = 0L; // when the head's first bytes came: its time limit counts from there, as Kestrel's
            for (var reads = 1; ; reads++)
            {
                var wait = keepAlive;
                if (!idle)
                {
                    wait = silence - TimeSpan.FromMilliseconds(Environment.TickCount64 - headStarted);
                    if (wait <= TimeSpan.Zero)
                    {
                        return; // the head took longer than Kestrel's request-headers timeout
                    }
                }
                read = await deadlines.ReadAsync(wait).ConfigureAwait(false);
                deadlines.ReadDone();
                if (deadlines.TimedOut || (read.IsCanceled && idle) || (read.IsCompleted && read.Buffer.IsEmpty))
                {
                    return;
                }
                if (idle)
                {
                    headStarted = Environment.TickCount64;
                }
                verdict = Http1RequestHead.Parse(read.Buffer, maxHeaderBytes, maxHeaders, client.Authorization, out head);
                if (verdict != HeadVerdict.NeedMore)
                {
                    break;
                }
                if (reads == MaxHeadReads)
                {
                    // A head that trickles in is Kestrel's to parse as it comes, not re-parsed here on every read.
                    verdict = HeadVerdict.NotMine;
                    break;
                }
                if (read.IsCompleted)
                {
                    return; // the client left halfway through a head
                }
                input.AdvanceTo(read.Buffer.Start, read.Buffer.End);
                examined = read.Buffer.End;
                idle = false;
            }
            if (verdict == HeadVerdict.NotMine || head.ContentLength > maxBody)
            {
                // Kestrel takes over with nothing consumed and no more examined than before this read: an examined
                // position cannot move back, and bytes counted as examined are not handed out again until more
                // arrive. After a head that took several reads, the cancelled read makes Kestrel's first read return
                // at once even if nothing new came with the last one.
                if (idle)
                {
                    input.AdvanceTo(read.Buffer.Start);
                }
                else
                {
                    input.AdvanceTo(read.Buffer.Start, examined);
                    input.CancelPendingRead();
                }
                // Kestrel's requests may block (the store, uploads): off the event thread first, and the socket
                // back to the runtime's default.
                if (inline)
                {
                    InlineIo.TrySet(connection.Features, inline: false);
                }
                await InlineIo.LeaveEventThread();
                await next(connection).ConfigureAwait(false);
                return;
            }
            if (!inline && inlineIo)
            {
                inline = InlineIo.TrySet(connection.Features, inline: true);
            }

            client.Begin(head.Authorization, head.KeepAlive && !deadlines.CloseRequested);
            try
            {
                // The key first: a client without one gets its 401 and costs no buffer for its body, which is then
                // read and dropped for up to DrainTimeout. The request's latency counts from here, as on the Kestrel
                // path: the key check and the body are part of it.
                var started = Stopwatch.GetTimestamp();
                var caller = await handler.AuthenticateAsync(client).ConfigureAwait(false);
                var body = await ReadBodyAsync(deadlines, read, head, keep: caller is not null).ConfigureAwait(false);
                if (body is null)
                {
                    // The client left, or its body stopped or came too slowly (Kestrel's minimum body data rate).
                    if (caller is not null && !client.Aborted.IsCancellationRequested)
                    {
                        handler.CountRejected(408);
                        client.Begin(head.Authorization, keepAlive: false); // the rest of the body is not awaited
                        await client.WriteErrorAsync(408,
                            $"The request body stopped for {silence.TotalSeconds:0}s or arrived slower than {minBodyRate?.BytesPerSecond:0} bytes/s; send the request again.",
                            "invalid_request_error", "request_timeout").ConfigureAwait(false);
                    }
                    return;
                }
                if (caller is not null)
                {
                    await handler.HandleAsync(client, caller, head.Route, head.Path, body, started).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (client.Aborted.IsCancellationRequested || e is IOException or OperationCanceledException)
            {
                return; // the client reset or left (a reset surfaces as an IOException from the pipe before Aborted fires)
            }
            catch (Exception e)
            {
                logger.LogError(e, "Gateway request on connection {Connection} failed", connection.ConnectionId);
                await client.FailAsync().ConfigureAwait(false);
                return;
            }
            if (!client.KeepAlive || client.Aborted.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>
    /// The body after the head, copied out of the pipe as it arrives (a body larger than the pipe's pause threshold
    /// cannot wait in it whole), or null when the connection ends before it is complete. Unless
    /// <paramref name="keep"/>, the bytes are only passed over, for at most <see cref="DrainTimeout"/>, and the result
    /// is empty.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<byte[]?> ReadBodyAsync(Http1Deadlines deadlines, ReadResult read, Http1RequestHead head, bool keep)
    {
        var input = deadlines.Input;
        var body = keep ? RequestBodies.Start(head.ContentLength) : [];
        var rest = read.Buffer.Slice(head.HeadLength);
        var got = 0L;
        var started = Environment.TickCount64;
        var drainUntil = keep ? long.MaxValue : started + (long)DrainTimeout.TotalMilliseconds;
        while (true)
        {
            var take = Math.Min(rest.Length, head.ContentLength - got);
            if (keep)
            {
                body = RequestBodies.Grow(body, (int)got, got + take, head.ContentLength);
                rest.Slice(0, take).CopyTo(body.AsSpan((int)got));
            }
            got += take;
            input.AdvanceTo(rest.GetPosition(take));
            if (got == head.ContentLength)
            {
                return body;
            }
            if (read.IsCompleted)
            {
                return null;
            }
            var left = drainUntil - Environment.TickCount64;
            if (left <= 0)
            {
                return null;
            }
            read = await deadlines.ReadAsync(left < silence.TotalMilliseconds ? TimeSpan.FromMilliseconds(left) : silence).ConfigureAwait(false);
            deadlines.ReadDone();
            if (deadlines.TimedOut || TooSlow(got, started))
            {
                return null;
            }
            rest = read.Buffer;
        }
    }

    /// <summary>Whether a body that has brought <paramref name="got"/> bytes so far is under Kestrel's minimum data rate.</summary>
    private bool TooSlow(long got, long started)
    {
        if (minBodyRate is not { } rate)
        {
            return false;
        }
        var elapsed = TimeSpan.FromMilliseconds(Environment.TickCount64 - started);
        return elapsed > rate.GracePeriod && got < (elapsed - rate.GracePeriod).TotalSeconds * rate.BytesPerSecond;
    }
}
