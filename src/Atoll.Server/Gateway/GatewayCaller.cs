namespace Atoll.Server.Gateway;

/// <summary>Who sent a gateway request, and their limits (null = unlimited).</summary>
internal sealed record GatewayCaller(string Id, string Name, int? RequestsPerMinute, int? TokensPerMinute, int? MaxConcurrent = null)
{
    public static GatewayCaller Admin { get; } = new("admin", "admin", null, null);
}
