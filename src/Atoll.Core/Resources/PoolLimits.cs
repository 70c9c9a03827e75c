namespace Atoll.Core.Resources;

/// <summary>Ceilings for a whole pool: GPUs in total and USD per hour in total; null = none.</summary>
public sealed record PoolLimits(int? MaxGpus = null, decimal? MaxPricePerHour = null);
