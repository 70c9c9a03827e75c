using System.Globalization;
using Atoll.Core.Contracts;
using Atoll.Core.Fleet;

namespace Atoll.Providers.Local;

/// <summary>
/// One instance type of the local provider: simulated GPUs (<c>1xH100-80GB</c>) in a made-up region whose simulator
/// answers more slowly the "farther" it is, and a price in the style of Karpenter's KWOK provider (spot = 0.7 × on-demand).
/// </summary>
internal sealed record LocalShape(string Gpus, string Region, string? GpuModel, int GpuCount, int GpuMemoryGiB, int TtftMs, int ItlMs, decimal OnDemandPrice)
{
    public static readonly IReadOnlyList<string> DefaultShapes = ["1xH100-80GB", "1xA100-80GB", "1xL40S-48GB"];

    // USD per GPU-hour on demand, roughly what the GPU clouds ask.
    private static readonly Dictionary<string, decimal> GpuPrices = new(StringComparer.OrdinalIgnoreCase)
    {
        ["B200"] = 4.99m, ["H200"] = 3.49m, ["H100"] = 2.49m, ["GH200"] = 1.49m, ["A100"] = 1.29m, ["L40S"] = 0.99m,
        ["A6000"] = 0.80m, ["A40"] = 0.70m, ["A10"] = 0.75m, ["L4"] = 0.45m, ["RTX4090"] = 0.40m, ["RTX3090"] = 0.22m, ["V100"] = 0.55m,
    };

    public string InstanceType => "sim." + (GpuCount == 0 ? "cpu" : $"{GpuCount}x{GpuModel}");

    /// <summary>Parses <c>COUNTxMODEL[-MEMGB]</c> (or <c>none</c>) for the shape at <paramref name="index"/>.</summary>
    public static LocalShape Parse(string gpus, int index)
    {
        var region = "local-" + (char)('a' + Math.Min(index, 25));
        var (ttft, itl) = (40 * (1 << Math.Min(index, 4)), 8 * (index + 1));
        var report = Core.Health.SimulatedGpus.Parse(gpus);
        if (report.Gpus.Count == 0)
        {
            return new LocalShape("none", region, null, 0, 0, ttft, itl, 0.10m);
        }
        var first = report.Gpus[0];
        var model = Core.Fleet.GpuModels.Normalize(first.Name) ?? first.Name;
        var memory = (int)Math.Round((first.MemoryTotalMiB ?? 0) / 1024.0);
        var price = (GpuPrices.TryGetValue(model, out var p) ? p : 1.00m) * report.Gpus.Count;
        return new LocalShape(gpus, region, model, report.Gpus.Count, memory, ttft, itl, price);
    }

    public Offer ToOffer(string provider, string capacityType, bool available) => new(
        provider, "local", InstanceType, Region, capacityType, GpuModel, GpuCount, GpuMemoryGiB,
        VCpus: Math.Max(4, GpuCount * 8), MemoryGiB: Math.Max(16, GpuCount * 64),
        PricePerHour: capacityType == CapacityTypes.Spot ? decimal.Round(OnDemandPrice * 0.7m, 4) : OnDemandPrice,
        OnDemandPricePerHour: OnDemandPrice, Available: available);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{InstanceType} in {Region}");
}
