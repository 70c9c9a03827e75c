using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Atoll.Server.Gateway;

/// <summary>
/// One HTTP/1.1 connection to a model server, carrying one exchange at a time: writes a POST (head and body in one
/// write when they fit), parses the answer's head, and hands out the body as it arrives — de-chunked, straight out
/// of the connection's read buffer. Only what the gateway uses is kept from the head: status, Content-Type, framing,
/// keep-alive and <see cref="KeptHeaders"/>. Anything malformed is an <see cref="UpstreamException"/>, never a guess.
/// </summary>
internal sealed class Http1Connection : IDisposable
{
    /// <summary>Answer headers passed on to the client (besides Content-Type), in the order of <see cref="Kept"/>.</summary>
    public static readonly string[] KeptHeaders = ["x-request-id", "openai-processing-ms", "x-atoll-instance"];

    private const int BufferSize = 16 * 1024;
    private const int MaxHeadBytes = 64 * 1024;
    private const int MaxLineBytes = 8 * 1024;
    private static readonly byte[][] KeptHeaderBytes = [.. KeptHeaders.Select(Encoding.ASCII.GetBytes)];
    private static readonly byte[] EventStreamAccept = "\r\nAccept: text/event-stream"u8.ToArray();

    private readonly Stream stream;
    private readonly string?[] lastKept = new string?[KeptHeaders.Length];
    private byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
    private int start;
    private int end;
    private Framing framing;
    private ChunkState chunk;
    private long remaining;
    private bool keepAlive;
    private bool receivedAny;
    private bool disposed;

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

    public int Status { get; private set; }

    public string? ContentType { get; private set; }

    /// <summary>The answer's declared length, null when chunked or read to the end of the connection.</summary>
    public long? ContentLength { get; private set; }

    /// <summary>Values of <see cref="KeptHeaders"/> in the current answer (null when absent).</summary>
    public string?[] Kept { get; } = new string?[KeptHeaders.Length];

    /// <summary>Whether the whole body has been handed out.</summary>
    public bool BodyDone => framing == Framing.None;

    /// <summary>Whether the answer is a server-sent event stream.</summary>
    public bool IsEventStream => ContentType is { } type && type.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Writes the request: <paramref name="head"/> ends in "Content-Length: ", so the length, an Accept header for
    /// streams and the blank line follow it.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendAsync(byte[] head, ReadOnlyMemory<byte> body, bool eventStream, CancellationToken ct)
    {
        receivedAny = false;
        var headLength = head.Length + 20 + EventStreamAccept.Length + 4;
        var together = headLength + body.Length <= BufferSize;
        var rented = ArrayPool<byte>.Shared.Rent(together ? headLength + body.Length : headLength);
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
            await stream.WriteAsync(rented.AsMemory(0, at), ct).ConfigureAwait(false);
            if (!together)
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
            ParseHead(buffer.AsSpan(start, length));
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
        if (!disposed && framing == Framing.None && keepAlive && start == end)
        {
            Pool.Return(this);
        }
        else
        {
            Dispose();
        }
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }
        disposed = true;
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

    private void ParseHead(ReadOnlySpan<byte> head)
    {
        var lineEnd = head.IndexOf("\r\n"u8);
        var statusLine = lineEnd < 0 ? head : head[..lineEnd];
        // "HTTP/1.1 200 OK"
        if (statusLine.Length < 12 || !statusLine.StartsWith("HTTP/1."u8) || statusLine[8] != (byte)' '
            || !Utf8Parser.TryParse(statusLine.Slice(9, 3), out int status, out var used) || used != 3 || status < 100)
        {
            throw new UpstreamException($"not an HTTP/1 answer: \"{Printable(statusLine)}\"");
        }
        Status = status;
        keepAlive = statusLine[7] != (byte)'0';
        ContentType = null;
        ContentLength = null;
        Array.Clear(Kept);
        var chunked = false;
        long? length = null;
        var rest = lineEnd < 0 ? [] : head[(lineEnd + 2)..];
        while (!rest.IsEmpty)
        {
            var next = rest.IndexOf("\r\n"u8);
            var line = next < 0 ? rest : rest[..next];
            rest = next < 0 ? [] : rest[(next + 2)..];
            var colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                throw new UpstreamException($"malformed answer header: \"{Printable(line)}\"");
            }
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim(" \t"u8);
            if (Ascii.EqualsIgnoreCase(name, "content-length"u8))
            {
                if (!Utf8Parser.TryParse(value, out long declared, out var digits) || digits != value.Length || declared < 0)
                {
                    throw new UpstreamException($"malformed Content-Length: \"{Printable(value)}\"");
                }
                length = declared;
            }
            else if (Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8))
            {
                chunked = value.Length >= 7 && Ascii.EqualsIgnoreCase(value[^7..], "chunked"u8);
            }
            else if (Ascii.EqualsIgnoreCase(name, "content-type"u8))
            {
                RequirePrintable(name, value);
                ContentType = value.SequenceEqual("application/json"u8) ? "application/json"
                    : value.SequenceEqual("text/event-stream"u8) ? "text/event-stream"
                    : Encoding.Latin1.GetString(value);
            }
            else if (Ascii.EqualsIgnoreCase(name, "connection"u8))
            {
                if (Contains(value, "close"u8))
                {
                    keepAlive = false;
                }
                else if (Contains(value, "keep-alive"u8))
                {
                    keepAlive = true;
                }
            }
            else
            {
                for (var i = 0; i < KeptHeaderBytes.Length; i++)
                {
                    if (Ascii.EqualsIgnoreCase(name, KeptHeaderBytes[i]))
                    {
                        RequirePrintable(name, value);
                        // A server names the same instance in every answer: keep the string instead of a new one each time.
                        var last = lastKept[i];
                        Kept[i] = last is not null && Ascii.Equals(value, last) ? last : (lastKept[i] = Encoding.Latin1.GetString(value));
                    }
                }
            }
        }

        chunk = ChunkState.Size;
        remaining = 0;
        if (status < 200 || status == 204 || status == 304)
        {
            framing = Framing.None;
        }
        else if (chunked)
        {
            framing = Framing.Chunked;
        }
        else if (length is { } declared)
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
    }

    /// <summary>
    /// Header values passed on to the client must be printable ASCII: a model server is not trusted to keep control
    /// characters or raw bytes out of what the gateway writes (Kestrel would also refuse them, mid-response).
    /// </summary>
    private static void RequirePrintable(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (value.IndexOfAnyExceptInRange((byte)' ', (byte)'~') >= 0)
        {
            throw new UpstreamException($"malformed answer header {Printable(name)}: a control character or non-ASCII byte in \"{Printable(value)}\"");
        }
    }

    private static long ParseChunkSize(ReadOnlySpan<byte> line)
    {
        var extension = line.IndexOf((byte)';');
        var digits = (extension < 0 ? line : line[..extension]).Trim(" \t"u8);
        if (digits.IsEmpty || digits.Length > 15 || !long.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var size))
        {
            throw new UpstreamException($"malformed chunked answer: chunk size \"{Printable(line)}\"");
        }
        return size;
    }

    private static bool Contains(ReadOnlySpan<byte> value, ReadOnlySpan<byte> token)
    {
        Span<byte> lower = stackalloc byte[Math.Min(value.Length, 256)];
        var length = Ascii.ToLower(value[..lower.Length], lower, out var written) == OperationStatus.Done ? written : 0;
        return lower[..length].IndexOf(token) >= 0;
    }

    private static string Printable(ReadOnlySpan<byte> text)
    {
        var shown = text.Length > 80 ? text[..80] : text;
        var chars = Encoding.Latin1.GetString(shown).Select(c => c is >= ' ' and < (char)127 ? c : '?').ToArray();
        return new string(chars) + (text.Length > 80 ? "…" : "");
    }
}
