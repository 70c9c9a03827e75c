namespace Atoll.Core.Contracts;

/// <summary>
/// A leased chunk of a batch: read lines <see cref="FirstLine"/>.. with a ranged GET of <see cref="InputUrl"/>
/// (<c>Range: bytes=StartOffset-(EndOffset-1)</c>), write the result JSONL with a PUT to <see cref="ResultUrl"/>,
/// heartbeat before <see cref="ExpiresAt"/>, then complete. Signed URLs: the agent holds no storage credentials.
/// </summary>
public sealed record LeaseGrant(
    string BatchId,
    int Seq,
    string LeaseToken,
    int Attempt,
    DateTimeOffset ExpiresAt,
    int LeaseSeconds,
    string Endpoint,
    string Model,
    Uri InputUrl,
    long StartOffset,
    long EndOffset,
    int FirstLine,
    int LineCount,
    Uri ResultUrl);
