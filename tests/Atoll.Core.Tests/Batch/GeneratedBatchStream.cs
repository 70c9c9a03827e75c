using System.Text;

namespace Atoll.Core.Tests.Batch;

/// <summary>
/// A read-only stream of <c>lines</c> valid request lines (custom_id "req-00000001"…), each padded to about
/// <c>lineBytes</c>, generated on the fly into one reused line buffer so the test itself allocates almost nothing.
/// </summary>
internal sealed class GeneratedBatchStream : Stream
{
    private const int Digits = 8;
    private readonly byte[] line;
    private readonly int digitsAt;
    private readonly int lines;
    private int current;
    private int offsetInLine;

    public GeneratedBatchStream(int lines, int lineBytes)
    {
        this.lines = lines;
        var prefix = "{\"custom_id\":\"req-";
        var rest = "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"llama\",\"messages\":[{\"role\":\"user\",\"content\":\"";
        var end = "\"}]}}\n";
        var pad = Math.Max(0, lineBytes - prefix.Length - Digits - rest.Length - end.Length);
        line = Encoding.UTF8.GetBytes(prefix + new string('0', Digits) + rest + new string('x', pad) + end);
        digitsAt = prefix.Length;
        LineBytes = line.Length;
        SetNumber(1);
    }

    public int LineBytes { get; }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => (long)LineBytes * lines;
    public override long Position { get => (long)current * LineBytes + offsetInLine; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var written = 0;
        while (written < buffer.Length && current < lines)
        {
            var n = Math.Min(buffer.Length - written, line.Length - offsetInLine);
            line.AsSpan(offsetInLine, n).CopyTo(buffer[written..]);
            written += n;
            offsetInLine += n;
            if (offsetInLine == line.Length)
            {
                offsetInLine = 0;
                current++;
                SetNumber(current + 1);
            }
        }
        return written;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private void SetNumber(int number)
    {
        for (var i = Digits - 1; i >= 0; i--)
        {
            line[digitsAt + i] = (byte)('0' + number % 10);
            number /= 10;
        }
    }
}
