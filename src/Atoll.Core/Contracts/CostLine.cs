namespace Atoll.Core.Contracts;

/// <summary>One running claim's price. <see cref="OnDemandPricePerHour"/> is what the same machine costs on demand (equal for on-demand nodes; null when unknown).</summary>
public sealed record CostLine(
    string Claim,
    string? Node,
    string Pool,
    string Phase,
    string Provider,
    string InstanceType,
    string Region,
    string CapacityType,
    string? GpuModel,
    int GpuCount,
    decimal PricePerHour,
    decimal? OnDemandPricePerHour);
