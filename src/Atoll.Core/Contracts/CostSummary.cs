namespace Atoll.Core.Contracts;

/// <summary>Totals of a pool (or the fleet, <see cref="Pool"/> null): USD per hour, on-demand equivalent, saving in USD/h and percent.</summary>
public sealed record CostSummary(string? Pool, int Nodes, int Gpus, decimal PricePerHour, decimal OnDemandPricePerHour, decimal SavingPerHour, decimal SavingPercent);
