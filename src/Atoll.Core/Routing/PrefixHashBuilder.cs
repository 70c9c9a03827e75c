namespace Atoll.Core.Routing;

/// <summary>
/// Hashes a UTF-8 prompt given in pieces (as a JSON reader finds them) into the chained block hashes of
/// <see cref="PrefixHasher.HashUtf8"/>: appending "ab" then "c" gives the hashes of "abc". Allocates nothing until
/// the first full block; a mutable struct, so pass it by reference.
/// </summary>
public struct PrefixHashBuilder
{
    private readonly int maxBlocks;
    private ulong[]? hashes;
    private int count;
    private ulong current;
    private int filled;

    /// <summary>A builder that hashes up to <see cref="PrefixHasher.DefaultMaxBlocks"/> blocks.</summary>
    public PrefixHashBuilder()
        : this(PrefixHasher.DefaultMaxBlocks)
    {
    }

    public PrefixHashBuilder(int maxBlocks)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBlocks);
        this.maxBlocks = maxBlocks;
        current = PrefixHasher.Seed(0);
    }

    /// <summary>Bytes appended so far, hashed or not.</summary>
    public long Length { get; private set; }

    public void Append(ReadOnlySpan<byte> utf8)
    {
        Length += utf8.Length;
        if (count >= maxBlocks)
            return;
        var hash = current;
        var need = PrefixHasher.BlockChars - filled;
        while (utf8.Length >= need)
        {
            foreach (var b in utf8[..need])
                hash = (hash ^ b) * PrefixHasher.Prime;
            Complete(hash);
            if (count >= maxBlocks)
                return;
            hash = PrefixHasher.Seed(hash);
            utf8 = utf8[need..];
            need = PrefixHasher.BlockChars;
            filled = 0;
        }
        foreach (var b in utf8)
            hash = (hash ^ b) * PrefixHasher.Prime;
        filled += utf8.Length;
        current = hash;
    }

    /// <summary>The hashes of the full blocks so far (a trailing partial block is not hashed).</summary>
    public readonly ulong[] ToArray()
    {
        if (count == 0)
            return [];
        return hashes!.Length == count ? hashes : hashes.AsSpan(0, count).ToArray();
    }

    private void Complete(ulong hash)
    {
        if (hashes is null || count == hashes.Length)
            Array.Resize(ref hashes, Math.Min(maxBlocks, Math.Max(4, count * 2)));
        hashes[count++] = hash;
        current = PrefixHasher.Seed(hash);
    }
}
