using System.Security.Cryptography;

namespace Atoll.Storage.Tests.Objects;

/// <summary>
/// A non-seekable stream of <c>length</c> pseudo-random bytes made on the fly: a store can only read it forwards,
/// so nothing can be learned from its Length or by seeking. <see cref="Sha256"/> is the hash of what it gives.
/// </summary>
internal sealed class GeneratedStream(long length, int seed = 1) : Stream
{
    private readonly Random random = new(seed);
    private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long position;

    public long Generated => position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>The SHA-256 of every byte given so far (all of them once the stream has been read to the end).</summary>
    public byte[] Sha256() => hash.GetCurrentHash();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        // Short reads on purpose: a store must not assume one read fills its buffer.
        var n = (int)Math.Min(Math.Min(buffer.Length, 100_000), length - position);
        if (n <= 0)
        {
            return 0;
        }
        random.NextBytes(buffer[..n]);
        hash.AppendData(buffer[..n]);
        position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            hash.Dispose();
        }
        base.Dispose(disposing);
    }
}
