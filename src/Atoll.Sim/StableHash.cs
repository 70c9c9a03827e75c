namespace Atoll.Sim;

/// <summary>
/// FNV-1a (64-bit) over UTF-16 code units plus SplitMix64: hashes that are the same in every process and on
/// every run, unlike <see cref="string.GetHashCode()"/>, so output and cache keys are reproducible.
/// </summary>
internal static class StableHash
{
    private const ulong OffsetBasis = 14695981039346656037;
    private const ulong Prime = 1099511628211;

    public static ulong Of(string text) => Append(OffsetBasis, text);

    public static ulong Append(ulong hash, ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            hash = (hash ^ (byte)c) * Prime;
            hash = (hash ^ (byte)(c >> 8)) * Prime;
        }
        return hash;
    }

    /// <summary>Mixes a separator in so that ("ab", "c") and ("a", "bc") differ.</summary>
    public static ulong Combine(ulong hash, ReadOnlySpan<char> text) => Append((hash ^ 0xFF) * Prime, text);

    /// <summary>One step of SplitMix64: advances <paramref name="state"/> and returns a well-mixed value.</summary>
    public static ulong Next(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15;
        var z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
