using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.WebUtilities;

namespace Atoll.Server.Gateway;

/// <summary>
/// The answering side of <see cref="Http1Front"/>: writes HTTP/1.1 responses into the connection's output pipe, or,
/// for an answer of up to <see cref="MaxDirectBytes"/> on the gateway's own transport, straight to its socket
/// (<see cref="EpollConnection.TrySendNow"/>).
/// </summary>
internal sealed class Http1FrontClient : GatewayClient, IDisposable
{
    private static readonly ConcurrentDictionary<int, byte[]> StatusLines = new();
    private static DateLine date = new(0, []);

    /// <summary>
    /// Where an answer is written whole for <see cref="EpollConnection.TrySendNow"/>: one per thread, as an answer
    /// is written and sent in one go (<see cref="WriteHead"/>, then <see cref="FlushAsync"/>, with no wait between).
    /// </summary>
    [ThreadStatic]
    private static byte[]? directBuffer;

    private readonly ConnectionContext connection;
    private readonly Http1Deadlines deadlines;
    private readonly PipeWriter output;
    private readonly EpollConnection? direct; // the socket itself, when the connection's transport is one (no TLS between)
    private int directLength; // bytes of directBuffer that WriteHead wrote and FlushAsync sends (0: they went into the pipe)
    private readonly CancellationTokenSource gone = new();
    private readonly CancellationTokenRegistration closed;
    private readonly HeaderLine contentType = new("Content-Type");
    private readonly HeaderLine endpoint = new("x-atoll-endpoint");
    private readonly HeaderLine[] kept = [.. Http1AnswerHead.KeptHeaders.Select(name => new HeaderLine(name))];
    private AttemptCancellation? attempt;
    private string authorization = "";
    private bool keepAlive;
    private bool started;

    public Http1FrontClient(ConnectionContext connection, Http1Deadlines deadlines)
    {
        this.connection = connection;
        this.deadlines = deadlines;
        output = connection.Transport.Output;
        direct = connection.Transport as EpollConnection;
        closed = connection.ConnectionClosed.UnsafeRegister(static s => ((Http1FrontClient)s!).Gone(), this);
    }

    public override string Authorization => authorization;

    public override CancellationToken Aborted => gone.Token;

    public bool KeepAlive => keepAlive;

    /// <summary>
    /// The connection's own attempt source, linked to it once and reused from request to request (one at a time on
    /// a connection); a new one after an attempt that was cancelled.
    /// </summary>
    public override AttemptCancellation BeginAttempt(TimeSpan timeout)
    {
        var source = attempt ??= AttemptCancellation.Linked(gone.Token);
        source.CancelAfter(timeout);
        return source;
    }

    public override void EndAttempt(AttemptCancellation source)
    {
        if (!source.TryEnd() && ReferenceEquals(source, attempt))
        {
            attempt = null;
        }
    }

    public void Begin(string authorization, bool keepAlive)
    {
        this.authorization = authorization;
        this.keepAlive = keepAlive;
        started = false;
    }

    protected override ValueTask WriteErrorJsonAsync(int status, string json, int? retryAfterSeconds)
    {
        var body = Encoding.UTF8.GetBytes(json);
        WriteHead(status, "application/json", null, null, body.Length, retryAfterSeconds, body);
        return FlushAsync();
    }

    public override ValueTask WriteAnswerAsync(Http1Connection answer, string endpoint, ReadOnlyMemory<byte> body)
    {
        WriteHead(answer.Status, answer.ContentType, answer, endpoint, body.Length, body: body.Span);
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
        attempt?.Unlink();
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

    /// <summary>
    /// Status line and headers, then <paramref name="body"/> when given; a null <paramref name="length"/> means a
    /// chunked stream. Written into one span of the output and advanced once: a write per header cost more than the
    /// bytes. Header lines of values that repeat from answer to answer (Content-Type, the endpoint, the instance) are
    /// encoded once per connection (<see cref="HeaderLine"/>).
    /// </summary>
    private void WriteHead(int status, string? contentType, Http1Connection? answer, string? endpoint, long? length, int? retryAfterSeconds = null,
        ReadOnlySpan<byte> body = default)
    {
        started = true;
        var statusLine = StatusLines.GetOrAdd(status, static s => Encoding.ASCII.GetBytes($"HTTP/1.1 {s} {ReasonPhrases.GetReasonPhrase(s)}\r\n"));
        var dateLine = DateLine.Now();
        var typeLine = contentType is null ? [] : this.contentType.For(contentType);
        var endpointLine = endpoint is null ? [] : this.endpoint.For(endpoint);
        // A large body goes after the head in writes of the pipe's own block size, not into one span of its size.
        var withHead = body.Length <= MaxBodyInHead;
        var size = statusLine.Length + dateLine.Length + typeLine.Length + endpointLine.Length + MaxFixedHeadBytes + (withHead ? body.Length : 0);
        var kept = answer?.Kept;
        if (kept is not null)
        {
            for (var i = 0; i < kept.Length; i++)
            {
                if (kept[i] is { } value)
                {
                    size += this.kept[i].For(value).Length;
                }
            }
        }
        // An answer that fits goes out past the pipe (EpollConnection.TrySendNow), in FlushAsync.
        var whole = direct is not null && withHead && size <= MaxDirectBytes;
        var span = whole ? directBuffer ??= new byte[MaxDirectBytes] : output.GetSpan(size);
        var at = Add(span, 0, statusLine);
        at = Add(span, at, dateLine);
        at = Add(span, at, typeLine);
        if (kept is not null)
        {
            for (var i = 0; i < kept.Length; i++)
            {
                if (kept[i] is { } value)
                {
                    at = Add(span, at, this.kept[i].For(value));
                }
            }
        }
        at = Add(span, at, endpointLine);
        if (retryAfterSeconds is { } seconds)
        {
            at = Add(span, at, "Retry-After: "u8);
            Utf8Formatter.TryFormat(seconds, span[at..], out var n);
            at = Add(span, at + n, "\r\n"u8);
        }
        if (status is 204 or 304)
        {
            // HTTP gives these no body, so no framing header either (a Content-Length on a 204 is an error).
        }
        else if (length is { } bodyLength)
        {
            at = Add(span, at, "Content-Length: "u8);
            Utf8Formatter.TryFormat(bodyLength, span[at..], out var n);
            at = Add(span, at + n, "\r\n"u8);
        }
        else
        {
            at = Add(span, at, "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n"u8);
        }
        keepAlive &= !deadlines.CloseRequested;
        if (!keepAlive)
        {
            at = Add(span, at, "Connection: close\r\n"u8);
        }
        at = Add(span, at, "\r\n"u8);
        if (whole)
        {
            directLength = Add(span, at, body);
        }
        else if (withHead)
        {
            output.Advance(Add(span, at, body));
        }
        else
        {
            output.Advance(at);
            output.Write(body);
        }
    }

    /// <summary>Bodies up to this size are written with the head, into the same span.</summary>
    private const int MaxBodyInHead = 2048;

    /// <summary>Bytes of the head besides the lines <see cref="WriteHead"/> sizes one by one: Retry-After, framing, Connection, the blank line.</summary>
    private const int MaxFixedHeadBytes = 160;

    /// <summary>Answers up to this size (head and body) are sent past the output pipe when the transport allows it.</summary>
    private const int MaxDirectBytes = 4096;

    private static int Add(Span<byte> span, int at, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(span[at..]);
        return at + bytes.Length;
    }

    /// <summary>
    /// Flushes the output; throws <see cref="OperationCanceledException"/> when the client is gone. Not an async
    /// method for the usual flush that completes at once (the bytes went to the socket or its buffer).
    /// </summary>
    private ValueTask FlushAsync()
    {
        if (directLength > 0)
        {
            var bytes = directBuffer.AsSpan(0, directLength);
            directLength = 0;
            if (gone.IsCancellationRequested)
            {
                return ValueTask.FromException(ClientGone()); // as the pipe's flush with the cancelled token
            }
            int sent;
            try
            {
                sent = direct!.TrySendNow(bytes);
            }
            catch (IOException e)
            {
                // The client reset or left: the connection ends, as when the send loop's send fails.
                direct!.Abort(new ConnectionAbortedException(e.Message, e));
                return ValueTask.FromException(ClientGone());
            }
            if (sent == bytes.Length)
            {
                return ValueTask.CompletedTask;
            }
            output.Write(bytes[Math.Max(sent, 0)..]); // the rest after what the socket took, or all behind the pipe's bytes
        }
        ValueTask<FlushResult> flushing;
        try
        {
            direct?.Queued(output.UnflushedBytes);
            flushing = output.FlushAsync(gone.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return ValueTask.FromException(ClientGone());
        }
        if (!flushing.IsCompletedSuccessfully)
        {
            return FlushLaterAsync(flushing);
        }
        var result = flushing.Result;
        return result.IsCompleted || result.IsCanceled ? ValueTask.FromException(ClientGone()) : ValueTask.CompletedTask;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushLaterAsync(ValueTask<FlushResult> flushing)
    {
        FlushResult result;
        try
        {
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
            throw ClientGone();
        }
    }

    private OperationCanceledException ClientGone()
    {
        Gone();
        return new OperationCanceledException("The client is gone.", gone.Token);
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

    /// <summary>
    /// One header's line ("Name: value\r\n") for the last value it had on this connection: the same value (the same
    /// string, as the answer heads and endpoints keep theirs) is not encoded again. Unsafe characters become "?".
    /// </summary>
    private sealed class HeaderLine(string name)
    {
        private string? value;
        private byte[] line = [];

        public byte[] For(string current)
        {
            if (!ReferenceEquals(current, value))
            {
                line = Encoding.Latin1.GetBytes($"{name}: {Safe(current)}\r\n");
                value = current;
            }
            return line;
        }
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
