namespace Atoll.Core.Contracts;

/// <summary>
/// Body of a lease heartbeat, completion or failure. <see cref="Succeeded"/>/<see cref="Failed"/> count the lines
/// of the uploaded result (completion); <see cref="Error"/> says why an attempt failed (failure).
/// </summary>
public sealed record LeaseUpdate(string LeaseToken, int Succeeded = 0, int Failed = 0, string? Error = null);
