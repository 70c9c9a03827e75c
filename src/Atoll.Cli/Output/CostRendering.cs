using Atoll.Core.Contracts;
using Spectre.Console;

namespace Atoll.Cli.Output;

/// <summary>What the fleet costs now: per node, per pool, and the fleet total with its saving against on-demand.</summary>
internal static class CostRendering
{
    /// <summary>Hours in a month as cloud price sheets count them (8760 / 12).</summary>
    public const int HoursPerMonth = 730;

    public static void Write(IAnsiConsole console, CostReport report)
    {
        if (report.Nodes.Count == 0)
        {
            console.WriteLine("No running nodes: the fleet costs $0.00/h.");
            return;
        }
        console.Write(Nodes(report.Nodes));
        console.WriteLine();
        console.Write(Pools(report.Pools));
        console.WriteLine();
        foreach (var line in Total(report.Total))
        {
            console.WriteLine(line);
        }
    }

    public static Table Nodes(IEnumerable<CostLine> nodes)
    {
        var table = new Table().Border(TableBorder.None)
            .AddColumns("CLAIM", "NODE", "POOL", "PROVIDER", "TYPE", "CAPACITY", "GPUS", "$/H", "ON-DEMAND $/H");
        foreach (var n in nodes.OrderBy(n => n.Pool, StringComparer.Ordinal).ThenBy(n => n.Claim, StringComparer.Ordinal))
        {
            table.AddRow(
                Markup.Escape(n.Claim), Markup.Escape(n.Node ?? "-"), Markup.Escape(n.Pool), Markup.Escape(n.Provider),
                Markup.Escape(n.InstanceType), Markup.Escape(n.CapacityType), Markup.Escape(FleetRendering.Gpu(n.GpuModel, n.GpuCount)),
                FleetRendering.Usd(n.PricePerHour), FleetRendering.Usd(n.OnDemandPricePerHour));
        }
        return table;
    }

    public static Table Pools(IEnumerable<CostSummary> pools)
    {
        var table = new Table().Border(TableBorder.None)
            .AddColumns("POOL", "NODES", "GPUS", "$/H", "ON-DEMAND $/H", "SAVING $/H", "SAVING");
        foreach (var p in pools.OrderBy(p => p.Pool, StringComparer.Ordinal))
        {
            table.AddRow(
                Markup.Escape(p.Pool ?? "-"), p.Nodes.ToString(), p.Gpus.ToString(), FleetRendering.Usd(p.PricePerHour),
                FleetRendering.Usd(p.OnDemandPricePerHour), FleetRendering.Usd(p.SavingPerHour), Percent(p.SavingPercent));
        }
        return table;
    }

    /// <summary>
    /// "Fleet: 3 nodes, 24 GPUs, $41.20/h (on-demand $98.00/h, saving $56.80/h = 58%)" and the same per day and month.
    /// </summary>
    public static IReadOnlyList<string> Total(CostSummary total)
    {
        Func<decimal, string> usd = FleetRendering.Usd;
        return
        [
            $"Fleet: {total.Nodes} node{(total.Nodes == 1 ? "" : "s")}, {total.Gpus} GPU{(total.Gpus == 1 ? "" : "s")}, "
                + $"{usd(total.PricePerHour)}/h (on-demand {usd(total.OnDemandPricePerHour)}/h, "
                + $"saving {usd(total.SavingPerHour)}/h = {Percent(total.SavingPercent)})",
            $"       {usd(total.PricePerHour * 24)}/day, {usd(total.PricePerHour * HoursPerMonth)}/month "
                + $"(on-demand {usd(total.OnDemandPricePerHour * 24)}/day, {usd(total.OnDemandPricePerHour * HoursPerMonth)}/month)",
        ];
    }

    /// <summary><see cref="CostSummary.SavingPercent"/> is already 0-100.</summary>
    private static string Percent(decimal percent) => $"{Math.Round(percent, MidpointRounding.AwayFromZero):0}%";
}
