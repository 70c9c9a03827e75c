using System.Buffers;
using System.Runtime.CompilerServices;

namespace Atoll.Core.Batch;

/// <summary>
/// Splits a stream into lines in one pass, holding only the current line (a pooled buffer that grows to fit the
/// longest line) and tracking each line's byte offsets in the stream.
/// </summary>
internal sealed class JsonlLineScanner(Stream stream, long maxBytes = long.MaxValue)
{
    private const int InitialBuffer = 64 * 1024;
    private static ReadOnlySpan<byte> Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>Bytes read from the stream so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>True when the stream held more than <c>maxBytes</c>; the scan stopped there.</summary>
    public bool ExceededMaxBytes { get; private set; }

    public async IAsyncEnumerable<JsonlLine> ReadAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(InitialBuffer);
        var bufferOffset = 0L; // stream offset of buffer[0]
        int start = 0, scan = 0, end = 0, number = 0;
        var eof = false;
        try
        {
            while (true)
            {
                var newline = buffer.AsSpan(scan, end - scan).IndexOf((byte)'\n');
                if (newline >= 0)
                {
                    var at = scan + newline;
                    yield return Line(buffer, start, at, bufferOffset, ++number, at + 1);
                    start = scan = at + 1;
                    continue;
                }
                if (eof)
                {
                    if (end > start)
                    {
                        yield return Line(buffer, start, end, bufferOffset, ++number, end);
                    }
                    yield break;
                }
                scan = end;
                if (start > 0)
                {
                    // Only the unfinished line is left: move it to the front.
                    Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                    bufferOffset += start;
                    end -= start;
                    scan -= start;
                    start = 0;
                }
                if (end == buffer.Length)
                {
                    buffer = Grow(buffer, end);
                }
                var read = await stream.ReadAsync(buffer.AsMemory(end), ct).ConfigureAwait(false);
                if (read == 0)
                {
                    eof = true;
                    continue;
                }
                end += read;
                BytesRead += read;
                if (BytesRead > maxBytes)
                {
                    ExceededMaxBytes = true;
                    yield break;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static JsonlLine Line(byte[] buffer, int start, int contentEnd, long bufferOffset, int number, int lineEnd)
    {
        var streamStart = bufferOffset + start;
        if (streamStart == 0 && buffer.AsSpan(start, contentEnd - start).StartsWith(Bom))
        {
            start += Bom.Length;
        }
        if (contentEnd > start && buffer[contentEnd - 1] == (byte)'\r')
        {
            contentEnd--;
        }
        return new JsonlLine(buffer.AsMemory(start, contentEnd - start), number, streamStart, bufferOffset + lineEnd);
    }

    private static byte[] Grow(byte[] buffer, int used)
    {
        if (buffer.Length >= Array.MaxLength)
        {
            throw new InvalidDataException($"a line is longer than {Array.MaxLength} bytes");
        }
        var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(Array.MaxLength, buffer.Length * 2L));
        Buffer.BlockCopy(buffer, 0, bigger, 0, used);
        ArrayPool<byte>.Shared.Return(buffer);
        return bigger;
    }
}
