namespace Atoll.Core.Resources;

/// <summary>Lifecycle timeouts as durations such as <c>10m</c> or <c>90s</c>; null = the default (10m, 20m, 30m).</summary>
public sealed record PoolTimeouts(string? Launch = null, string? Registration = null, string? Initialization = null);
