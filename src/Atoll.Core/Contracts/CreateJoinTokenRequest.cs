namespace Atoll.Core.Contracts;

/// <summary>Ask for a join token good for <see cref="Uses"/> registrations within <see cref="Ttl"/> (e.g. "1h", "30m").</summary>
public sealed record CreateJoinTokenRequest(int? Uses, string? Ttl, string? Pool, string? Description);
