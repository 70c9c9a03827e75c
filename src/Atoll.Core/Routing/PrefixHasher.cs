namespace Atoll.Core.Routing;

/// <summary>
/// Cuts a prompt into blocks and hashes each block chained to the previous one (FNV-1a 64-bit over the previous
/// hash's 8 little-endian bytes, then the block's content), so a hash stands for the whole prefix up to its block.
/// Stable across processes and machines. Two forms: <see cref="Hash"/> over UTF-16 text (blocks of
/// <see cref="BlockChars"/> characters) and <see cref="HashUtf8"/> / <see cref="PrefixHashBuilder"/> over UTF-8
/// bytes (blocks of <see cref="BlockChars"/> bytes), which the gateway uses to hash a request's prompt straight from
/// its JSON without building a string. The two forms give different hashes; one index must use one form.
/// </summary>
public static class PrefixHasher
{
    public const int BlockChars = 64;

    /// <summary>Tokens in a block, at the usual four characters per token: converts a server's cache size to blocks.</summary>
    public const int TokensPerBlock = BlockChars / 4;

    /// <summary>Default cap on blocks hashed (64 K characters): later blocks add little and would flood the LRU.</summary>
    public const int DefaultMaxBlocks = 1024;

    internal const ulong OffsetBasis = 14695981039346656037UL;
    internal const ulong Prime = 1099511628211UL;

    /// <summary>Chained hashes of the prompt's full blocks; a trailing partial block is not hashed.</summary>
    public static ulong[] Hash(ReadOnlySpan<char> prompt, int maxBlocks = DefaultMaxBlocks)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBlocks);
        var count = Math.Min(prompt.Length / BlockChars, maxBlocks);
        if (count == 0)
            return [];
        var hashes = new ulong[count];
        ulong previous = 0;
        for (var b = 0; b < count; b++)
        {
            var hash = Seed(previous);
            foreach (var c in prompt.Slice(b * BlockChars, BlockChars))
            {
                hash = (hash ^ (c & 0xFFu)) * Prime;
                hash = (hash ^ ((uint)c >> 8)) * Prime;
            }
            hashes[b] = hash;
            previous = hash;
        }
        return hashes;
    }

    /// <summary>Chained hashes of the UTF-8 prompt's full blocks of <see cref="BlockChars"/> bytes.</summary>
    public static ulong[] HashUtf8(ReadOnlySpan<byte> prompt, int maxBlocks = DefaultMaxBlocks)
    {
        var builder = new PrefixHashBuilder(maxBlocks);
        builder.Append(prompt);
        return builder.ToArray();
    }

    /// <summary>The start of a block's hash: FNV-1a over the previous block's hash (0 for the first block).</summary>
    internal static ulong Seed(ulong previous)
    {
        var hash = OffsetBasis;
        for (var i = 0; i < 8; i++)
            hash = (hash ^ ((previous >> (8 * i)) & 0xFF)) * Prime;
        return hash;
    }
}
