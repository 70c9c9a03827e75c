namespace Atoll.Core.Contracts;

/// <summary>A join token; <see cref="Token"/> is set only in the answer that created it.</summary>
public sealed record JoinTokenView(
    string Id,
    string? Token,
    int UsesLeft,
    DateTimeOffset ExpiresAt,
    string? Pool,
    string? Description,
    DateTimeOffset CreatedAt);
