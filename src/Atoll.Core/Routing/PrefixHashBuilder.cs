using System.Runtime.CompilerServices;

namespace Atoll.Core.Routing;

/// <summary>
/// Hashes a UTF-8 prompt given in pieces (as a JSON reader finds them) into the chained block hashes of
/// <see cref="PrefixHasher.HashUtf8"/>: appending "ab" then "c" gives the hashes of "abc". Blocks that lie whole in
/// one piece are hashed where they are; the bytes of a block split across pieces are gathered in the builder first.
/// Allocates nothing until the first full block; a mutable struct, so pass it by reference.
/// </summary>
public struct PrefixHashBuilder
{
    private readonly int maxBlocks;
    private ulong[]? hashes;
    private int count;
    private ulong previous;
    private int filled;
    private BlockBuffer partial;

    /// <summary>A builder that hashes up to <see cref="PrefixHasher.DefaultMaxBlocks"/> blocks.</summary>
    public PrefixHashBuilder()
        : this(PrefixHasher.DefaultMaxBlocks)
    {
    }

    public PrefixHashBuilder(int maxBlocks)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBlocks);
        this.maxBlocks = maxBlocks;
    }

    /// <summary>Bytes appended so far, hashed or not.</summary>
    public long Length { get; private set; }

    public void Append(ReadOnlySpan<byte> utf8)
    {
        Length += utf8.Length;
        if (count >= maxBlocks)
            return;
        if (filled > 0)
        {
            // Finish the block the last pieces started.
            var take = Math.Min(PrefixHasher.BlockChars - filled, utf8.Length);
            utf8[..take].CopyTo(((Span<byte>)partial)[filled..]);
            filled += take;
            utf8 = utf8[take..];
            if (filled < PrefixHasher.BlockChars)
                return;
            filled = 0;
            if (!Complete(PrefixHasher.Block(partial, previous)))
                return;
        }
        while (utf8.Length >= PrefixHasher.BlockChars)
        {
            if (!Complete(PrefixHasher.Block(utf8[..PrefixHasher.BlockChars], previous)))
                return;
            utf8 = utf8[PrefixHasher.BlockChars..];
        }
        utf8.CopyTo(partial);
        filled = utf8.Length;
    }

    /// <summary>The hashes of the full blocks so far (a trailing partial block is not hashed).</summary>
    public readonly ulong[] ToArray()
    {
        if (count == 0)
            return [];
        return hashes!.Length == count ? hashes : hashes.AsSpan(0, count).ToArray();
    }

    /// <summary>Records a block's hash; false once <see cref="maxBlocks"/> are hashed.</summary>
    private bool Complete(ulong hash)
    {
        if (hashes is null || count == hashes.Length)
            Array.Resize(ref hashes, Math.Min(maxBlocks, Math.Max(4, count * 2)));
        hashes[count++] = hash;
        previous = hash;
        return count < maxBlocks;
    }

    [InlineArray(PrefixHasher.BlockChars)]
    private struct BlockBuffer
    {
        private byte first;
    }
}
