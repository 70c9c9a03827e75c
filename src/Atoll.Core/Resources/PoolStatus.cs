namespace Atoll.Core.Resources;

/// <summary>The <c>status</c> the server writes on a GpuPool.</summary>
/// <param name="Message">Why the pool is short of nodes, when it is (e.g. no offer fits, which were tried).</param>
public sealed record PoolStatus(int Desired, int Pending, int Launched, int Registered, int Initialized, decimal PricePerHour, string? Message, DateTimeOffset UpdatedAt);
