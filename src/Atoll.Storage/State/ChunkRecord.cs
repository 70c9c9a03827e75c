namespace Atoll.Storage.State;

/// <summary>One chunk of a batch's input (a byte range of the input object) and its place in the queue.</summary>
public sealed record ChunkRecord(
    string BatchId,
    int Seq,
    long StartOffset,
    long EndOffset,
    int FirstLine,
    int LineCount,
    string State,
    int Attempt,
    string? LeaseToken,
    DateTimeOffset? LeaseExpiresAt,
    string? WorkerNode,
    string? ResultKey,
    int Succeeded,
    int Failed,
    string? LastError);
