using Atoll.Core.Batch;

namespace Atoll.Server.Batch;

/// <summary>Settings of the Files and Batches APIs and of the chunk queue.</summary>
public sealed class BatchOptions
{
    /// <summary>Largest upload accepted by POST /v1/files.</summary>
    public long MaxFileBytes { get; set; } = BatchLimits.DefaultMaxBytes;

    /// <summary>Most request lines in one batch input file.</summary>
    public int MaxLines { get; set; } = BatchLimits.DefaultMaxLines;

    /// <summary>Lines per chunk, the unit a worker leases.</summary>
    public int ChunkLines { get; set; } = BatchLimits.DefaultChunkLines;

    /// <summary>How long a lease lasts without a heartbeat; a worker that vanishes loses its chunk after this.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Attempts per chunk before its lines are written to the error file.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The longest completion window a batch may ask for ("24h" is OpenAI's only value).</summary>
    public TimeSpan MaxCompletionWindow { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often batches are validated, swept and advanced.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest long-poll of an agent asking for work.</summary>
    public TimeSpan MaxLeaseWait { get; set; } = TimeSpan.FromSeconds(25);

    public BatchLimits Limits => new() { MaxLines = MaxLines, MaxBytes = MaxFileBytes, ChunkLines = ChunkLines };

    /// <summary>Problems with these settings, each naming its setting; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (ChunkLines < 1 || MaxLines < 1 || MaxFileBytes < 1)
        {
            problems.Add("batch chunk lines, max lines and max file bytes must be positive");
        }
        if (MaxAttempts is < 1 or > 100)
        {
            problems.Add($"batch max attempts {MaxAttempts}: expected 1 to 100");
        }
        if (LeaseDuration < TimeSpan.FromSeconds(3))
        {
            problems.Add("batch lease duration must be at least 3s");
        }
        return problems;
    }
}
