using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Spectre.Console;

namespace Atoll.Cli.Output;

/// <summary>The offers table, cheapest GPU-hour first, and the providers whose catalog could not be read.</summary>
internal static class OfferRendering
{
    public static void Write(IAnsiConsole console, OfferList list, int limit)
    {
        // The server sorts already; a stable sort keeps its tie-break and guards the order the columns promise.
        var offers = list.Items.OrderBy(o => o.PricePerGpuHour).ToList();
        if (offers.Count == 0)
        {
            console.WriteLine("No offers match.");
        }
        else
        {
            console.Write(Table(offers.Take(limit)));
            if (offers.Count > limit)
            {
                console.MarkupLine($"[grey]{offers.Count - limit} more offer(s) not shown; raise --limit or narrow with --gpu/--region/--provider[/]");
            }
        }
        var troubled = list.Providers.Where(p => p.State != "Ready").ToList();
        if (troubled.Count > 0)
        {
            console.WriteLine();
            foreach (var p in troubled)
            {
                console.MarkupLine(ProviderLine(p));
            }
        }
    }

    public static Table Table(IEnumerable<Offer> offers)
    {
        var table = new Table().Border(TableBorder.None)
            .AddColumns("PROVIDER", "INSTANCE TYPE", "REGION", "GPU", "VCPU", "RAM", "CAPACITY", "$/H", "$/GPU-H", "ON-DEMAND $/H", "AVAILABLE");
        foreach (var o in offers)
        {
            var gpu = FleetRendering.Gpu(o.GpuModel, o.GpuCount) + (o.GpuCount > 0 && o.GpuMemoryGiB > 0 ? $" {o.GpuMemoryGiB}G" : "");
            table.AddRow(
                Markup.Escape(o.Provider), Markup.Escape(o.InstanceType), Markup.Escape(o.Region), Markup.Escape(gpu),
                o.VCpus > 0 ? o.VCpus.ToString() : "-", o.MemoryGiB > 0 ? $"{o.MemoryGiB}G" : "-", Markup.Escape(o.CapacityType),
                FleetRendering.Usd(o.PricePerHour), o.GpuCount > 0 ? FleetRendering.Usd(o.PricePerGpuHour) : "-",
                FleetRendering.Usd(o.OnDemandPricePerHour), o.Available ? "[green]yes[/]" : "[red]no[/]");
        }
        return table;
    }

    /// <summary>"provider lambda (lambda): Unauthorized: the API key was refused (0 offer(s))": why a provider's offers are missing.</summary>
    public static string ProviderLine(ProviderCatalogView p) =>
        $"provider {Markup.Escape(p.Name)} ({Markup.Escape(p.Type)}): {FleetRendering.State(p.State)}: "
        + Markup.Escape(p.Message ?? (p.State == "Unknown" ? "catalog not fetched yet; try --refresh" : "no message"))
        + $" ({p.Offers} offer(s))";
}
