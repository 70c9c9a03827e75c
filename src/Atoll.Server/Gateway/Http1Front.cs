using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.WebUtilities;
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
/// keep-alive timeout between requests, the request-headers timeout as the longest silence inside a request, and
/// the minimum request body data rate (408 below it). A client that takes no bytes of an answer for that same
/// silence is disconnected. The API key is checked before the body is read, so a request without one costs no
/// body buffer. A server shutting down closes idle connections at once and busy ones after their answer.
/// </para>
/// </summary>
internal sealed class Http1Front(GatewayHandler handler, IOptions<GatewayOptions> options, IOptions<KestrelServerOptions> kestrel, ILogger<Http1Front> logger)
{
    /// <summary>Reads of one head before it goes to Kestrel instead: clients send a head in one or two segments.</summary>
    private const int MaxHeadReads = 4;

    private readonly bool inlineIo = options.Value.InlineIo;
    private readonly long maxBody = options.Value.MaxBodyBytes;
    private readonly int maxHead = kestrel.Value.Limits.MaxRequestLineSize + kestrel.Value.Limits.MaxRequestHeadersTotalSize;
    private readonly int maxHeaders = kestrel.Value.Limits.MaxRequestHeaderCount;
    private readonly TimeSpan keepAlive = kestrel.Value.Limits.KeepAliveTimeout;
    private readonly TimeSpan silence = kestrel.Value.Limits.RequestHeadersTimeout;
    private readonly MinDataRate? minBodyRate = kestrel.Value.Limits.MinRequestBodyDataRate;

    /// <summary>A request without a valid key whose body has more than this still to come closes instead of skipping it.</summary>
    private const int MaxSkippedBody = 64 * 1024;

    /// <summary>Serves <paramref name="connection"/> until it closes, or until a request for Kestrel arrives.</summary>
    public async Task ServeAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        try
        {
            await ServeRequestsAsync(connection, next).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ConnectionResetException or ConnectionAbortedException or OperationCanceledException)
        {
            // The client reset or left: the connection just ends, as Kestrel's own do, without an error in the log.
        }
    }

    private async Task ServeRequestsAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
        var input = connection.Transport.Input;
        using var reading = new Deadlines(
            connection, connection.Features.Get<IConnectionLifetimeNotificationFeature>(), connection.Features.Get<IConnectionHeartbeatFeature>(), silence);
        using var client = new FrontClient(connection, reading);
        var inline = false;
        while (true)
        {
            ReadResult read;
            var idle = true;
            var examined = default(SequencePosition); // end of what a read that needed more bytes passed over
            HeadVerdict verdict;
            Http1RequestHead head;
            for (var reads = 1; ; reads++)
            {
                read = await reading.ReadAsync(idle ? keepAlive : silence).ConfigureAwait(false);
                if (reading.TimedOut || (read.IsCanceled && idle) || (read.IsCompleted && read.Buffer.IsEmpty))
                {
                    return;
                }
                verdict = Http1RequestHead.Parse(read.Buffer, maxHead, maxHeaders, client.Authorization, out head);
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
                if (inline && socket is not null)
                {
                    InlineIo.TrySet(socket, inline: false);
                }
                await InlineIo.LeaveEventThreadAsync().ConfigureAwait(false);
                await next(connection).ConfigureAwait(false);
                return;
            }
            if (!inline && inlineIo && socket is not null)
            {
                inline = InlineIo.TrySet(socket, inline: true);
            }

            client.Begin(head.Authorization, head.KeepAlive && !reading.CloseRequested);
            try
            {
                // The key first: a client without one gets its 401 and costs no buffer for its body, which is skipped
                // when it is small and the connection is kept, or else the connection closes.
                var caller = await handler.AuthenticateAsync(client).ConfigureAwait(false);
                if (caller is null && (!client.KeepAlive || head.ContentLength - (read.Buffer.Length - head.HeadLength) > MaxSkippedBody))
                {
                    return;
                }
                var body = await ReadBodyAsync(reading, read, head, keep: caller is not null).ConfigureAwait(false);
                if (body is null)
                {
                    // The client left, or its body stopped or came too slowly (Kestrel's minimum body data rate).
                    if (caller is not null && !client.Aborted.IsCancellationRequested)
                    {
                        client.Begin(head.Authorization, keepAlive: false);
                        await client.WriteErrorAsync(408, "The request body stopped or arrived too slowly; send the request again.",
                            "invalid_request_error", "request_timeout").ConfigureAwait(false);
                    }
                    return;
                }
                if (caller is not null)
                {
                    await handler.HandleAsync(client, caller, head.Route, head.Path, body).ConfigureAwait(false);
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
    /// <paramref name="keep"/>, the bytes are only passed over and the result is empty.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<byte[]?> ReadBodyAsync(Deadlines reading, ReadResult read, Http1RequestHead head, bool keep)
    {
        var input = reading.Input;
        var body = keep ? new byte[head.ContentLength] : [];
        var rest = read.Buffer.Slice(head.HeadLength);
        var got = 0L;
        var started = Environment.TickCount64;
        while (true)
        {
            var take = Math.Min(rest.Length, head.ContentLength - got);
            if (keep)
            {
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
            read = await reading.ReadAsync(silence).ConfigureAwait(false);
            if (reading.TimedOut || TooSlow(got, started))
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

    /// <summary>
    /// Deadlines of a connection's reads and writes, checked on Kestrel's once-a-second connection heartbeat (as
    /// Kestrel checks its own timeouts), so an operation costs no timer. A read still pending past its deadline is
    /// cancelled, and so is a read when the server asks its connections to close (<see cref="CloseRequested"/>), so
    /// an idle keep-alive connection does not hold up shutdown. A write (flush) that the client has not taken for
    /// the write limit aborts the connection: a client that stops reading cannot hold an endpoint's slot.
    /// </summary>
    private sealed class Deadlines : IDisposable
    {
        private readonly ConnectionContext connection;
        private readonly long writeLimit;
        private readonly CancellationTokenRegistration closing;
        private readonly ITimer? fallback;
        private long readDeadline = long.MaxValue;
        private long writeDeadline = long.MaxValue;
        private volatile bool timedOut;
        private volatile bool closeRequested;

        public Deadlines(ConnectionContext connection, IConnectionLifetimeNotificationFeature? lifetime, IConnectionHeartbeatFeature? heartbeat, TimeSpan writeLimit)
        {
            this.connection = connection;
            this.writeLimit = (long)writeLimit.TotalMilliseconds;
            Input = connection.Transport.Input;
            if (heartbeat is not null)
            {
                heartbeat.OnHeartbeat(static s => ((Deadlines)s).Check(), this);
            }
            else
            {
                fallback = TimeProvider.System.CreateTimer(static s => ((Deadlines)s!).Check(), this, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
            }
            if (lifetime is not null)
            {
                closing = lifetime.ConnectionClosedRequested.UnsafeRegister(static s =>
                {
                    var self = (Deadlines)s!;
                    self.closeRequested = true;
                    self.Input.CancelPendingRead();
                }, this);
            }
        }

        public PipeReader Input { get; }

        public bool TimedOut => timedOut;

        public bool CloseRequested => closeRequested;

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        public async ValueTask<ReadResult> ReadAsync(TimeSpan limit)
        {
            Volatile.Write(ref readDeadline, Environment.TickCount64 + (long)limit.TotalMilliseconds);
            try
            {
                return await Input.ReadAsync().ConfigureAwait(false);
            }
            finally
            {
                Volatile.Write(ref readDeadline, long.MaxValue);
            }
        }

        /// <summary>A flush did not complete at once: the client has this long to take the bytes.</summary>
        public void WriteWaiting() => Volatile.Write(ref writeDeadline, Environment.TickCount64 + writeLimit);

        public void WriteDone() => Volatile.Write(ref writeDeadline, long.MaxValue);

        private void Check()
        {
            var now = Environment.TickCount64;
            if (now > Volatile.Read(ref readDeadline))
            {
                timedOut = true;
                Input.CancelPendingRead();
            }
            if (now > Volatile.Read(ref writeDeadline))
            {
                WriteDone();
                connection.Abort(new ConnectionAbortedException("The client did not read the answer; the gateway closed the connection."));
            }
        }

        public void Dispose()
        {
            Volatile.Write(ref readDeadline, long.MaxValue);
            WriteDone();
            fallback?.Dispose();
            closing.Dispose();
        }
    }

    /// <summary>The answering side of the front: writes HTTP/1.1 responses into the connection's output pipe.</summary>
    private sealed class FrontClient : GatewayClient, IDisposable
    {
        private static readonly ConcurrentDictionary<int, byte[]> StatusLines = new();
        private static readonly byte[][] KeptHeaderPrefixes = [.. Http1Connection.KeptHeaders.Select(h => Encoding.ASCII.GetBytes(h + ": "))];
        private static DateLine date = new(0, []);

        private readonly ConnectionContext connection;
        private readonly Deadlines deadlines;
        private readonly PipeWriter output;
        private readonly CancellationTokenSource gone = new();
        private readonly CancellationTokenRegistration closed;
        private string authorization = "";
        private bool keepAlive;
        private bool started;

        public FrontClient(ConnectionContext connection, Deadlines deadlines)
        {
            this.connection = connection;
            this.deadlines = deadlines;
            output = connection.Transport.Output;
            closed = connection.ConnectionClosed.UnsafeRegister(static s => ((FrontClient)s!).Gone(), this);
        }

        public override string Authorization => authorization;

        public override CancellationToken Aborted => gone.Token;

        public bool KeepAlive => keepAlive;

        public void Begin(string authorization, bool keepAlive)
        {
            this.authorization = authorization;
            this.keepAlive = keepAlive;
            started = false;
        }

        protected override ValueTask WriteErrorJsonAsync(int status, string json, int? retryAfterSeconds)
        {
            WriteHead(status, "application/json", null, null, Encoding.UTF8.GetByteCount(json), retryAfterSeconds);
            Put(json, Encoding.UTF8);
            return FlushAsync();
        }

        public override ValueTask WriteAnswerAsync(Http1Connection answer, string endpoint, ReadOnlyMemory<byte> body)
        {
            WriteHead(answer.Status, answer.ContentType, answer, endpoint, body.Length);
            output.Write(body.Span);
            return FlushAsync();
        }

        public override ValueTask StartStreamAsync(Http1Connection answer, string endpoint)
        {
            WriteHead(answer.Status, answer.ContentType, answer, endpoint, null);
            return FlushAsync();
        }

        public override ValueTask WriteStreamAsync(ReadOnlyMemory<byte> piece)
        {
            if (piece.IsEmpty)
            {
                return ValueTask.CompletedTask; // an empty chunk would end the stream
            }
            var size = output.GetSpan(16);
            Utf8Formatter.TryFormat(piece.Length, size, out var n, new StandardFormat('x'));
            "\r\n"u8.CopyTo(size[n..]);
            output.Advance(n + 2);
            output.Write(piece.Span);
            output.Write("\r\n"u8);
            return FlushAsync();
        }

        public override ValueTask EndStreamAsync()
        {
            output.Write("0\r\n\r\n"u8);
            return FlushAsync();
        }

        public override void Abort()
        {
            keepAlive = false;
            connection.Abort(new ConnectionAbortedException("The gateway cut the connection after a failed stream."));
            Gone();
        }

        /// <summary>After an unexpected error: a 500 in OpenAI's shape if nothing was sent yet, else the connection is cut.</summary>
        public async Task FailAsync()
        {
            keepAlive = false;
            if (started)
            {
                Abort();
                return;
            }
            try
            {
                await WriteErrorAsync(500, "The gateway failed on this request; see the server log.", "server_error").ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        public void Dispose()
        {
            closed.Dispose();
            gone.Dispose();
        }

        private void Gone()
        {
            try
            {
                gone.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }

        /// <summary>Status line and headers; a null <paramref name="length"/> means a chunked stream.</summary>
        private void WriteHead(int status, string? contentType, Http1Connection? answer, string? endpoint, long? length, int? retryAfterSeconds = null)
        {
            started = true;
            output.Write(StatusLines.GetOrAdd(status, static s => Encoding.ASCII.GetBytes($"HTTP/1.1 {s} {ReasonPhrases.GetReasonPhrase(s)}\r\n")));
            output.Write(DateLine.Now());
            if (contentType is not null)
            {
                output.Write("Content-Type: "u8);
                Put(Safe(contentType), Encoding.Latin1);
                output.Write("\r\n"u8);
            }
            if (answer is not null)
            {
                var kept = answer.Kept;
                for (var i = 0; i < kept.Length; i++)
                {
                    if (kept[i] is { } value)
                    {
                        output.Write(KeptHeaderPrefixes[i]);
                        Put(Safe(value), Encoding.Latin1);
                        output.Write("\r\n"u8);
                    }
                }
            }
            if (endpoint is not null)
            {
                output.Write("x-atoll-endpoint: "u8);
                Put(Safe(endpoint), Encoding.Latin1);
                output.Write("\r\n"u8);
            }
            if (retryAfterSeconds is { } seconds)
            {
                output.Write("Retry-After: "u8);
                PutNumber(seconds);
                output.Write("\r\n"u8);
            }
            if (length is { } n)
            {
                output.Write("Content-Length: "u8);
                PutNumber(n);
                output.Write("\r\n"u8);
            }
            else
            {
                output.Write("Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n"u8);
            }
            keepAlive &= !deadlines.CloseRequested;
            if (!keepAlive)
            {
                output.Write("Connection: close\r\n"u8);
            }
            output.Write("\r\n"u8);
        }

        private void Put(string text, Encoding encoding)
        {
            var span = output.GetSpan(encoding.GetMaxByteCount(text.Length));
            output.Advance(encoding.GetBytes(text, span));
        }

        private void PutNumber(long number)
        {
            var span = output.GetSpan(20);
            Utf8Formatter.TryFormat(number, span, out var n);
            output.Advance(n);
        }

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
        private async ValueTask FlushAsync()
        {
            FlushResult result;
            try
            {
                var flushing = output.FlushAsync(gone.Token);
                if (!flushing.IsCompleted)
                {
                    deadlines.WriteWaiting(); // the client is not taking the bytes as fast as they come
                }
                result = await flushing.ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                result = new FlushResult(isCanceled: false, isCompleted: true);
            }
            finally
            {
                deadlines.WriteDone();
            }
            if (result.IsCompleted || result.IsCanceled)
            {
                Gone();
                throw new OperationCanceledException("The client is gone.", gone.Token);
            }
        }

        /// <summary>Header value characters a response may carry; anything else (CR, LF, other controls) is replaced.</summary>
        private static string Safe(string value)
        {
            foreach (var c in value)
            {
                if (c is < ' ' and not '\t' or '\x7f')
                {
                    return string.Create(value.Length, value, static (span, v) =>
                    {
                        for (var i = 0; i < v.Length; i++)
                        {
                            span[i] = v[i] is < ' ' and not '\t' or '\x7f' ? '?' : v[i];
                        }
                    });
                }
            }
            return value;
        }

        /// <summary>The Date header line, made once a second.</summary>
        private sealed record DateLine(long Second, byte[] Line)
        {
            public static byte[] Now()
            {
                var now = DateTimeOffset.UtcNow;
                var second = now.ToUnixTimeSeconds();
                var current = date;
                if (current.Second != second)
                {
                    current = new DateLine(second, Encoding.ASCII.GetBytes($"Date: {now:r}\r\n"));
                    date = current;
                }
                return current.Line;
            }
        }
    }
}
