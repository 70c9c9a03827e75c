namespace Atoll.Core.Contracts;

/// <summary><c>GET /api/v1/cost</c>: what the fleet costs per hour now, per node, per pool and in total, and the saving against on-demand.</summary>
public sealed record CostReport(IReadOnlyList<CostLine> Nodes, IReadOnlyList<CostSummary> Pools, CostSummary Total);
