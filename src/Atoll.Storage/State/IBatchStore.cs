namespace Atoll.Storage.State;

/// <summary>
/// Files, batches and the shared chunk queue. Claims never hand one chunk to two workers (PostgreSQL:
/// <c>FOR UPDATE SKIP LOCKED</c>; SQLite: one immediate transaction), and completion is fenced by the lease token.
/// </summary>
public interface IBatchStore
{
    Task AddFileAsync(FileRecord file, CancellationToken ct);

    Task<FileRecord?> GetFileAsync(string id, CancellationToken ct);

    /// <summary>Newest first; <paramref name="after"/> is the id of the last file of the previous page.</summary>
    Task<IReadOnlyList<FileRecord>> ListFilesAsync(string? purpose, string? after, int limit, CancellationToken ct);

    Task<bool> DeleteFileAsync(string id, CancellationToken ct);

    Task AddBatchAsync(BatchRecord batch, CancellationToken ct);

    Task<BatchRecord?> GetBatchAsync(string id, CancellationToken ct);

    /// <summary>Newest first; <paramref name="after"/> is the id of the last batch of the previous page.</summary>
    Task<IReadOnlyList<BatchRecord>> ListBatchesAsync(string? after, int limit, CancellationToken ct);

    /// <summary>Batches in any of these states (for the reconciler).</summary>
    Task<IReadOnlyList<BatchRecord>> ListBatchesInAsync(IReadOnlyList<string> statuses, CancellationToken ct);

    /// <summary>Writes every field of <paramref name="batch"/> if its stored status is still <paramref name="expectedStatus"/>.</summary>
    Task<bool> UpdateBatchAsync(BatchRecord batch, string expectedStatus, CancellationToken ct);

    /// <summary>In one transaction: inserts the chunks and moves the batch from validating to in_progress.</summary>
    Task<bool> StartBatchAsync(BatchRecord inProgress, IReadOnlyList<ChunkRecord> chunks, CancellationToken ct);

    /// <summary>Leases the oldest available chunk of an in-progress batch for one of <paramref name="models"/>; null when none.</summary>
    Task<ChunkLease?> ClaimAsync(string node, IReadOnlyList<string> models, DateTimeOffset now, TimeSpan leaseFor, CancellationToken ct);

    /// <summary>Extends a lease that is still ours.</summary>
    Task<LeaseStatus> HeartbeatAsync(string batchId, int seq, string leaseToken, DateTimeOffset now, TimeSpan leaseFor, CancellationToken ct);

    /// <summary>Marks the chunk done with its result object, only if the lease is still ours (fenced).</summary>
    Task<bool> CompleteAsync(string batchId, int seq, string leaseToken, string resultKey, int succeeded, int failed, CancellationToken ct);

    /// <summary>Gives the chunk back after a failed attempt (fenced); failed for good once <paramref name="maxAttempts"/> are spent.</summary>
    Task<bool> FailAttemptAsync(string batchId, int seq, string leaseToken, string error, int maxAttempts, CancellationToken ct);

    /// <summary>Returns chunks whose lease expired to the queue (or fails them after <paramref name="maxAttempts"/>); how many.</summary>
    Task<int> SweepExpiredAsync(DateTimeOffset now, int maxAttempts, CancellationToken ct);

    Task<ChunkSummary> SummarizeAsync(string batchId, CancellationToken ct);

    /// <summary>All chunks of a batch in order.</summary>
    Task<IReadOnlyList<ChunkRecord>> ListChunksAsync(string batchId, CancellationToken ct);

    /// <summary>Stops handing out a batch's chunks: available ones become failed (for cancel and expiry); how many.</summary>
    Task<int> WithdrawAvailableAsync(string batchId, string reason, CancellationToken ct);
}
