using Atoll.Core.Contracts;

namespace Atoll.Core.Fleet;

/// <summary>What the fleet costs now: every claim holding an instance, per pool and in total, against on-demand prices.</summary>
public static class CostCalculator
{
    public static CostReport Report(IEnumerable<NodeClaim> claims)
    {
        var lines = claims
            .Where(c => ClaimPhases.IsActive(c.Phase) && c.InstanceId is not null && c.PricePerHour is not null)
            .OrderBy(c => c.Pool, StringComparer.Ordinal).ThenBy(c => c.Name, StringComparer.Ordinal)
            .Select(c => new CostLine(c.Name, c.NodeName, c.Pool, c.Phase, c.Provider ?? "?", c.InstanceType ?? "?", c.Region ?? "?",
                c.CapacityType ?? "?", c.GpuModel, c.GpuCount, c.PricePerHour!.Value, c.OnDemandPricePerHour))
            .ToList();
        var pools = lines.GroupBy(l => l.Pool, StringComparer.Ordinal).Select(g => Summarize(g.Key, g.ToList())).ToList();
        return new CostReport(lines, pools, Summarize(null, lines));
    }

    private static CostSummary Summarize(string? pool, List<CostLine> lines)
    {
        var price = lines.Sum(l => l.PricePerHour);
        // Unknown on-demand prices count at the price paid: no saving is claimed that cannot be shown.
        var onDemand = lines.Sum(l => l.OnDemandPricePerHour ?? l.PricePerHour);
        var saving = onDemand - price;
        var percent = onDemand == 0 ? 0 : decimal.Round(saving / onDemand * 100, 1);
        return new CostSummary(pool, lines.Count, lines.Sum(l => l.GpuCount), price, onDemand, saving, percent);
    }
}
