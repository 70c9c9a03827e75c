namespace Atoll.Core.Contracts;

/// <summary>Answer to a lease heartbeat: "extended", or "lost"/"cancelled" (stop at once and write nothing).</summary>
public sealed record LeaseState(string Status, DateTimeOffset? ExpiresAt)
{
    public const string Extended = "extended";
    public const string Lost = "lost";
    public const string Cancelled = "cancelled";
}
