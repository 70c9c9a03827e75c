using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Atoll.Server.Gateway;

/// <summary>
/// One HTTP/1.1 connection to a model server, carrying one exchange at a time: writes a POST (head and body in one
/// write when they fit), reads the answer's head and hands out the body as it arrives — de-chunked, straight out of
/// the connection's read buffer. Only what the gateway uses is kept from the head (<see cref="Http1AnswerHead"/>):
/// status, Content-Type, framing, keep-alive and <see cref="Http1AnswerHead.KeptHeaders"/>. Anything malformed is an
/// <see cref="UpstreamException"/>, never a guess.
/// </summary>
internal sealed class Http1Connection : IDisposable
{
    private const int BufferSize = 16 * 1024;
    private const int MaxHeadBytes = 64 * 1024;
    private const int MaxLineBytes = 8 * 1024;
    private static readonly byte[] EventStreamAccept = "\r\nAccept: text/event-stream"u8.ToArray();

    private readonly Stream stream;
    private readonly Http1AnswerHead answerHead = new();
    private byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
    private int start;
    private int end;
    private Framing framing;
    private ChunkState chunk;
    private long remaining;
    private bool keepAlive;
    private bool receivedAny;
    private ValueTask<int> idleRead; // see WatchIdle
    private bool idleReading;
    private int disposed;

    public Http1Connection(Http1Pool pool, Stream stream, long now)
    {
        Pool = pool;
        this.stream = stream;
        CreatedAt = now;
        LastUsed = now;
    }

    private enum Framing { None, Length, Chunked, UntilClose }

    private enum ChunkState { Size, Data, DataEnd, Trailer }

    public Http1Pool Pool { get; }

    /// <summary>When the connection was made (a <see cref="Http1Upstream.Now"/> reading).</summary>
    public long CreatedAt { get; }

    /// <summary>When the connection last went back to its pool.</summary>
    public long LastUsed { get; set; }

    /// <summary>Whether any byte of the current answer arrived (a pooled connection that fails before is stale).</summary>
    public bool ReceivedAny => receivedAny;

    public int Status => answerHead.Status;

    public string? ContentType => answerHead.ContentType;

    /// <summary>The answer's declared length, null when chunked or read to the end of the connection.</summary>
    public long? ContentLength { get; private set; }

    /// <summary>Values of <see cref="Http1AnswerHead.KeptHeaders"/> in the current answer (null when absent).</summary>
    public string?[] Kept => answerHead.Kept;

    /// <summary>Whether the whole body has been handed out.</summary>
    public bool BodyDone => framing == Framing.None;

    /// <summary>
    /// Whether the answer has neither a length nor chunks, so its body ends where the connection does: a server that
    /// dies halfway looks the same as one that finished.
    /// </summary>
    public bool CloseDelimited { get; private set; }

    /// <summary>
    /// The whole body when it is already in the buffer (the usual small answer arrives with its head), without a
    /// read: true and the body (the connection's own memory, as <see cref="ReadAsync"/> hands out), or false.
    /// </summary>
    public bool TryTakeWhole(out ReadOnlyMemory<byte> body)
    {
        if (framing == Framing.None)
        {
            body = ReadOnlyMemory<byte>.Empty;
            return true;
        }
        if (framing == Framing.Length && end - start >= remaining)
        {
            body = Take();
            framing = Framing.None;
            return true;
        }
        body = default;
        return false;
    }

    /// <summary>Whether the answer is a server-sent event stream.</summary>
    public bool IsEventStream => ContentType is { } type && type.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Writes the request: <paramref name="head"/> ends in "Content-Length: ", so the length, an Accept header for
    /// streams and the blank line follow it. Not an async method for the usual request whose one write completes at
    /// once (the socket's buffer took it).
    /// </summary>
    public ValueTask SendAsync(byte[] head, ReadOnlyMemory<byte> body, bool eventStream, CancellationToken ct)
    {
        receivedAny = false;
        var headLength = head.Length + 20 + EventStreamAccept.Length + 4;
        var together = headLength + body.Length <= BufferSize;
        var rented = ArrayPool<byte>.Shared.Rent(together ? headLength + body.Length : headLength);
        ValueTask write;
        try
        {
            var at = head.Length;
            head.CopyTo(rented, 0);
            Utf8Formatter.TryFormat(body.Length, rented.AsSpan(at), out var digits);
            at += digits;
            if (eventStream)
            {
                EventStreamAccept.CopyTo(rented, at);
                at += EventStreamAccept.Length;
            }
            "\r\n\r\n"u8.CopyTo(rented.AsSpan(at));
            at += 4;
            if (together)
            {
                body.Span.CopyTo(rented.AsSpan(at));
                at += body.Length;
            }
            write = stream.WriteAsync(rented.AsMemory(0, at), ct);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(rented);
            throw;
        }
        if (together && write.IsCompletedSuccessfully)
        {
            ArrayPool<byte>.Shared.Return(rented);
            return ValueTask.CompletedTask;
        }
        return SendRestAsync(write, rented, together ? ReadOnlyMemory<byte>.Empty : body, ct);
    }

    /// <summary>Waits for the head's write, then writes <paramref name="body"/> if it is not empty.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendRestAsync(ValueTask write, byte[] rented, ReadOnlyMemory<byte> body, CancellationToken ct)
    {
        try
        {
            await write.ConfigureAwait(false);
            if (!body.IsEmpty)
            {
                await stream.WriteAsync(body, ct).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Parses the answer's head if the buffer holds it whole (skipping interim 1xx answers) and sets up reading its
    /// body; false when more bytes are needed (<see cref="ReadMoreAsync"/>, then <see cref="Filled"/>). Not an
    /// async method: the exchange awaits the socket itself, so a request's wait for its answer is one async level
    /// fewer (at 64 requests in flight every level is an allocation of its own).
    /// </summary>
    public bool TryReadHead()
    {
        while (true)
        {
            var length = buffer.AsSpan(start, end - start).IndexOf("\r\n\r\n"u8);
            if (length < 0)
            {
                if (end - start >= MaxHeadBytes)
                {
                    throw new UpstreamException($"the answer's headers are over {MaxHeadBytes / 1024} KB");
                }
                return false;
            }
            TakeHead(buffer.AsSpan(start, length));
            start += length + 4;
            if (Status >= 200)
            {
                return true;
            }
        }
    }

    /// <summary>What to throw when the connection ended before the whole head of the answer arrived.</summary>
    public UpstreamException HeadCutOff() => new(receivedAny
        ? "the connection closed in the middle of the answer's headers"
        : "the connection closed before an answer");

    /// <summary>
    /// The next piece of the body as it arrived, empty at its end. The memory is the connection's own buffer: use
    /// it before the next call and before <see cref="Release"/>.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ReadOnlyMemory<byte>> ReadAsync(CancellationToken ct)
    {
        while (true)
        {
            switch (framing)
            {
                case Framing.None:
                    return ReadOnlyMemory<byte>.Empty;
                case Framing.Length or Framing.UntilClose:
                    if (start == end && !Filled(await ReadMoreAsync(ct).ConfigureAwait(false)))
                    {
                        if (framing == Framing.Length)
                        {
                            throw new UpstreamException($"the connection closed with {remaining} bytes of the answer missing");
                        }
                        framing = Framing.None;
                        keepAlive = false;
                        return ReadOnlyMemory<byte>.Empty;
                    }
                    var piece = Take();
                    if (framing == Framing.Length && remaining == 0)
                    {
                        framing = Framing.None;
                    }
                    return piece;
            }

            switch (chunk)
            {
                case ChunkState.Size:
                    var (at, length) = await ReadLineAsync(ct).ConfigureAwait(false);
                    remaining = ParseChunkSize(buffer.AsSpan(at, length));
                    chunk = remaining == 0 ? ChunkState.Trailer : ChunkState.Data;
                    break;
                case ChunkState.Data:
                    if (remaining == 0)
                    {
                        chunk = ChunkState.DataEnd;
                        break;
                    }
                    if (start == end && !Filled(await ReadMoreAsync(ct).ConfigureAwait(false)))
                    {
                        throw new UpstreamException("the connection closed in the middle of a chunk of the answer");
                    }
                    return Take();
                case ChunkState.DataEnd:
                    if ((await ReadLineAsync(ct).ConfigureAwait(false)).Length != 0)
                    {
                        throw new UpstreamException("malformed chunked answer: no line end after a chunk");
                    }
                    chunk = ChunkState.Size;
                    break;
                case ChunkState.Trailer:
                    if ((await ReadLineAsync(ct).ConfigureAwait(false)).Length == 0)
                    {
                        framing = Framing.None;
                    }
                    break;
            }
        }
    }

    /// <summary>Back to the pool when the answer was read whole and the connection may be kept; closed otherwise.</summary>
    public void Release()
    {
        if (Volatile.Read(ref disposed) == 0 && framing == Framing.None && keepAlive && start == end)
        {
            Pool.Return(this);
        }
        else
        {
            Dispose();
        }
    }

    /// <summary>
    /// Starts the read of the next answer as the connection goes idle in its pool, so that anything the model server
    /// sends or does while it rests is seen (<see cref="QuietSinceReturned"/>), and the next exchange awaits this read
    /// instead of starting one after its request (<see cref="ReadMoreAsync"/>). Without the exchange's token: a
    /// cancelled exchange closes the connection, which ends the read.
    /// </summary>
    public void WatchIdle()
    {
        start = end = 0;
        try
        {
            // Kept, and consumed once: by the next exchange's first read (ReadMoreAsync), or never when the connection
            // is closed while idle, which ends the read.
#pragma warning disable CA2012
            idleRead = stream.ReadAsync(buffer.AsMemory(), CancellationToken.None);
#pragma warning restore CA2012
        }
        catch (Exception)
        {
            idleRead = new ValueTask<int>(0); // a connection that cannot read, for whatever reason, is not quiet
        }
        idleReading = true;
    }

    /// <summary>
    /// Whether nothing arrived on the idle connection since it went back to its pool (<see cref="WatchIdle"/>), so the
    /// next answer read from it answers the next request. A model server that wrote more after an answer (the tail of
    /// a wrong Content-Length, a stray line, a 408 sent on an idle connection) would have those bytes read as the next
    /// request's answer; one that closed its end would get a request it never reads. Either completes the idle read,
    /// which this looks at without a system call. Over TLS the read also takes in what the TLS layer sends alone (a
    /// TLS 1.3 server's session tickets), which is not an answer and does not complete it.
    /// </summary>
    public bool QuietSinceReturned() => !idleReading || !idleRead.IsCompleted;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }
        stream.Dispose();
        Pool.Closed();
        // The buffer is not returned to the shared pool: a read cancelled mid-flight may still complete into it.
        buffer = [];
    }

    private ReadOnlyMemory<byte> Take()
    {
        var count = (int)Math.Min(end - start, framing == Framing.UntilClose ? long.MaxValue : remaining);
        var piece = buffer.AsMemory(start, count);
        start += count;
        remaining -= count;
        return piece;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<(int At, int Length)> ReadLineAsync(CancellationToken ct)
    {
        int length;
        while ((length = buffer.AsSpan(start, end - start).IndexOf("\r\n"u8)) < 0)
        {
            if (end - start > MaxLineBytes)
            {
                throw new UpstreamException("malformed chunked answer: a line over 8 KB");
            }
            if (!Filled(await ReadMoreAsync(ct).ConfigureAwait(false)))
            {
                throw new UpstreamException("the connection closed in the middle of a chunked answer");
            }
        }
        var at = start;
        start += length + 2;
        return (at, length);
    }

    /// <summary>
    /// Reads more into the buffer (moving what is unread to its front, growing it for a long head); hand the count
    /// to <see cref="Filled"/>. Not an async method, for the reason <see cref="TryReadHead"/> gives.
    /// </summary>
    public ValueTask<int> ReadMoreAsync(CancellationToken ct)
    {
        if (idleReading)
        {
            // The read the connection started when it went idle, into the empty buffer (WatchIdle). It has no token
            // of its own: the exchange closes the connection when its token fires (CloseOnCancel).
            idleReading = false;
            var read = idleRead;
            idleRead = default;
            if (ct.IsCancellationRequested)
            {
                return ValueTask.FromCanceled<int>(ct); // as a read started with the token would; the caller closes the connection
            }
            return read;
        }
        if (start == end)
        {
            start = end = 0;
        }
        else if (end == buffer.Length)
        {
            var unread = end - start;
            var target = unread == buffer.Length ? ArrayPool<byte>.Shared.Rent(buffer.Length * 2) : buffer;
            Buffer.BlockCopy(buffer, start, target, 0, unread);
            if (!ReferenceEquals(target, buffer))
            {
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = target;
            }
            start = 0;
            end = unread;
        }
        return stream.ReadAsync(buffer.AsMemory(end), ct);
    }

    /// <summary>
    /// For an exchange on a connection from the pool, until its answer's head came: closes the connection when
    /// <paramref name="ct"/> fires, which ends the read <see cref="WatchIdle"/> started without a token (the
    /// exchange's first <see cref="ReadMoreAsync"/> returns that read). The read so ended fails (an
    /// <see cref="IOException"/> or <see cref="ObjectDisposedException"/>, or it ends short), which the exchange reports
    /// as its cancellation. Nothing to undo (default) on a new
    /// connection, whose reads take the token themselves. Not a wrapping async method around the idle read: that
    /// was one more async level, and one more allocation, per request.
    /// </summary>
    public CancellationTokenRegistration CloseOnCancel(CancellationToken ct) =>
        idleReading && ct.CanBeCanceled ? ct.UnsafeRegister(static s => ((Stream)s!).Dispose(), stream) : default;

    /// <summary>Whether the next <see cref="ReadMoreAsync"/> returns the read <see cref="WatchIdle"/> started.</summary>
    public bool IdleReading => idleReading;

    /// <summary>Takes in what <see cref="ReadMoreAsync"/> read; false at the end of the connection.</summary>
    public bool Filled(int read)
    {
        if (read == 0)
        {
            return false;
        }
        end += read;
        receivedAny = true;
        return true;
    }

    /// <summary>Takes in an answer's head and sets up reading its body.</summary>
    private void TakeHead(ReadOnlySpan<byte> bytes)
    {
        answerHead.Parse(bytes);
        var status = answerHead.Status;
        keepAlive = answerHead.KeepAlive;
        ContentLength = null;
        chunk = ChunkState.Size;
        remaining = 0;
        if (status < 200 || status == 204 || status == 304)
        {
            framing = Framing.None;
        }
        else if (answerHead.Chunked)
        {
            framing = Framing.Chunked;
        }
        else if (answerHead.DeclaredLength is { } declared)
        {
            ContentLength = declared;
            remaining = declared;
            framing = declared == 0 ? Framing.None : Framing.Length;
        }
        else
        {
            framing = Framing.UntilClose;
            keepAlive = false;
        }
        CloseDelimited = framing == Framing.UntilClose;
    }

    private static long ParseChunkSize(ReadOnlySpan<byte> line)
    {
        var extension = line.IndexOf((byte)';');
        var digits = (extension < 0 ? line : line[..extension]).Trim(" \t"u8);
        if (digits.IsEmpty || digits.Length > 15 || !long.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var size))
        {
            throw new UpstreamException($"malformed chunked answer: chunk size \"{Http1AnswerHead.Printable(line)}\"");
        }
        return size;
    }

}
