namespace Atoll.Core.Batch;

/// <summary>Limits applied while validating a batch input file and the size of the queue's chunks.</summary>
public sealed record BatchLimits
{
    public const int DefaultMaxLines = 50_000;
    public const long DefaultMaxBytes = 200L * 1024 * 1024;
    public const int DefaultChunkLines = 128;
    public const int DefaultMaxErrors = 100;

    /// <summary>Most request lines a file may hold (OpenAI: 50,000).</summary>
    public int MaxLines { get; init; } = DefaultMaxLines;

    /// <summary>Largest file in bytes (OpenAI: 200 MB).</summary>
    public long MaxBytes { get; init; } = DefaultMaxBytes;

    /// <summary>Lines per queue chunk; the last chunk may be shorter.</summary>
    public int ChunkLines { get; init; } = DefaultChunkLines;

    /// <summary>Most errors reported; validation stops reading once this many are found.</summary>
    public int MaxErrors { get; init; } = DefaultMaxErrors;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first limit that is not positive.</summary>
    public void EnsureValid()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxLines, 1, nameof(MaxLines));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBytes, 1, nameof(MaxBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(ChunkLines, 1, nameof(ChunkLines));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxErrors, 1, nameof(MaxErrors));
    }
}
