namespace Atoll.Storage.State;

/// <summary>A join token row: only the hash of the secret is kept.</summary>
public sealed record JoinTokenRecord(
    string Id,
    string TokenHash,
    int UsesLeft,
    DateTimeOffset ExpiresAt,
    string? Pool,
    string? Description,
    DateTimeOffset CreatedAt,
    string? Claim = null);
