namespace Atoll.Core.Batch;

/// <summary>The outcome of <see cref="BatchInputValidator.ValidateAsync"/>.</summary>
public sealed record BatchValidation
{
    /// <summary>True when the file has at least one line and no errors.</summary>
    public bool IsValid => Errors.Count == 0;

    /// <summary>The one model every line names (the first one seen when the file is invalid; null if none).</summary>
    public string? Model { get; init; }

    /// <summary>Request lines read. For an invalid file, the lines read before validation stopped.</summary>
    public int LineCount { get; init; }

    /// <summary>Bytes read from the input.</summary>
    public long Bytes { get; init; }

    /// <summary>At most <see cref="BatchLimits.MaxErrors"/> errors, in file order.</summary>
    public IReadOnlyList<BatchLineError> Errors { get; init; } = [];

    /// <summary>True when validation stopped at <see cref="BatchLimits.MaxErrors"/>: the file may hold more errors.</summary>
    public bool ErrorsTruncated { get; init; }

    /// <summary>The queue's chunks, covering every line in order. Empty unless <see cref="IsValid"/>.</summary>
    public IReadOnlyList<ChunkRange> Chunks { get; init; } = [];
}
