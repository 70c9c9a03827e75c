namespace Atoll.Storage.State;

/// <summary>A claimed chunk: what a worker needs to run it, and the token that fences its completion.</summary>
public sealed record ChunkLease(
    string BatchId,
    int Seq,
    string LeaseToken,
    int Attempt,
    DateTimeOffset ExpiresAt,
    long StartOffset,
    long EndOffset,
    int FirstLine,
    int LineCount,
    string InputObjectKey,
    string Endpoint,
    string Model);
