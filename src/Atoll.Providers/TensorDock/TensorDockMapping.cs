using System.Text.Json;
using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using static Atoll.Providers.Http.LenientJson;
using static Atoll.Providers.TensorDock.TensorDockJson;

namespace Atoll.Providers.TensorDock;

/// <summary>TensorDock JSON (locations, instances) into Atoll's offers and instances.</summary>
internal static class TensorDockMapping
{
    private static readonly string[] RegionFields = ["id", "city", "stateprovince", "country"];

    /// <summary>
    /// The offers of one location: per GPU model, one offer per power-of-two GPU count up to <c>max_count</c> (1, 2,
    /// 4, 8: the shapes inference pools use; every count would flood the catalog with near-duplicates). A model
    /// listed with <c>max_count</c> 0 yields one unavailable single-GPU offer, so the catalog still shows it. The
    /// price is the GPUs' <c>price_per_hr</c> times the count plus the vCPU, RAM and disk of <paramref name="shape"/>
    /// at the location's per-unit <c>pricing</c>. TensorDock v2 has no spot: every offer is on-demand.
    /// </summary>
    public static IEnumerable<Offer> ToOffers(string provider, JsonElement location, TensorDockShape shape)
    {
        var region = Str(location, "id");
        if (region is null)
        {
            yield break;
        }
        foreach (var gpu in Array(location, "gpus"))
        {
            var raw = Str(gpu, "v0Name") ?? Str(gpu, "name");
            if (raw is null || Dec(gpu, "price_per_hr") is not { } gpuPrice)
            {
                continue;
            }
            var label = Str(gpu, "displayName") ?? raw;
            // Canonical names from Core's catalog (what pools ask for); a GPU Atoll does not know stays null.
            var model = GpuModels.Normalize(raw) ?? GpuModels.Normalize(label);
            var memory = GpuNames.MemoryInText(raw) ?? GpuNames.MemoryInText(label) ?? GpuModels.MemoryGiB(model);
            var resources = Prop(gpu, "resources") ?? default;
            var pricing = Prop(gpu, "pricing") ?? default;
            var maxCount = Int(gpu, "max_count");
            for (var count = 1; count <= Math.Max(1, maxCount); count *= 2)
            {
                var vcpus = Cap(count * shape.VcpusPerGpu, Int(resources, "max_vcpus"));
                var ram = Cap(count * shape.RamGbPerGpu, Int(resources, "max_ram_gb"));
                var price = (gpuPrice * count)
                    + (vcpus * (Dec(pricing, "per_vcpu_hr") ?? 0))
                    + (ram * (Dec(pricing, "per_gb_ram_hr") ?? 0))
                    + (shape.StorageGb * (Dec(pricing, "per_gb_storage_hr") ?? 0));
                yield return new Offer(provider, ProviderTypes.TensorDock, TensorDockShape.InstanceType(raw, count), region,
                    CapacityTypes.OnDemand, model, count, memory, vcpus, ram, decimal.Round(price, 6), decimal.Round(price, 6), maxCount >= count);
            }
        }
    }

    /// <summary>True when the location is in <paramref name="regions"/> by id, city, state or country (empty = all).</summary>
    public static bool InRegions(JsonElement location, IReadOnlyList<string> regions) =>
        regions.Count == 0 || regions.Any(r => RegionFields
            .Any(field => string.Equals(r, Str(location, field), StringComparison.OrdinalIgnoreCase)));

    /// <summary>
    /// An instance as a list item or a <c>data</c> object: fields flat or under <c>attributes</c>; the IP is
    /// <c>ipAddress</c> or <c>ip_address</c> (both seen). The SSH port (<c>ssh_port</c>) is not kept: with a
    /// dedicated IP SSH is on 22, and Atoll's agent dials out, so nothing connects in.
    /// </summary>
    public static CloudInstance ToInstance(JsonElement item, string? fallbackId = null)
    {
        var attributes = Prop(item, "attributes") ?? item;
        string? Field(string name) => Str(attributes, name) ?? Str(item, name);
        var status = Field("status") ?? "";
        var ip = Field("ipAddress") ?? Field("ip_address") ?? Field("ip");
        return new CloudInstance(
            Str(item, "id") ?? fallbackId ?? "",
            Field("name") ?? "",
            State(status),
            status,
            string.IsNullOrWhiteSpace(ip) ? null : ip,
            null,
            Field("location_id") ?? Field("locationId"),
            InstanceType(attributes),
            CapacityTypes.OnDemand);
    }

    /// <summary>
    /// Statuses <c>starting|running|stopping|stopped|deleting|deleted|error</c> (generated spec, unconfirmed). Atoll
    /// never stops VMs, so <c>stopped</c> is a node taken down outside Atoll: Failed, to be replaced.
    /// </summary>
    public static InstanceState State(string status) => status.ToLowerInvariant() switch
    {
        "starting" or "pending" or "creating" or "provisioning" or "deploying" => InstanceState.Pending,
        "running" or "started" => InstanceState.Running,
        "stopping" or "deleting" or "terminating" => InstanceState.Terminating,
        "deleted" or "terminated" => InstanceState.Terminated,
        "stopped" or "error" or "failed" => InstanceState.Failed,
        _ => InstanceState.Unknown,
    };

    // resources.gpus is a map {"<v0Name>": {count}} in requests and an array [{gpuV0Name, count}] in some answers.
    private static string? InstanceType(JsonElement attributes)
    {
        if (Prop(attributes, "resources") is not { } resources || Prop(resources, "gpus") is not { } gpus)
        {
            return null;
        }
        if (gpus.ValueKind == JsonValueKind.Object)
        {
            foreach (var gpu in gpus.EnumerateObject())
            {
                return TensorDockShape.InstanceType(gpu.Name, Math.Max(1, Int(gpu.Value, "count")));
            }
        }
        foreach (var gpu in Array(resources, "gpus"))
        {
            if ((Str(gpu, "gpuV0Name") ?? Str(gpu, "v0Name")) is { } name)
            {
                return TensorDockShape.InstanceType(name, Math.Max(1, Int(gpu, "count")));
            }
        }
        return null;
    }

    private static int Cap(int wanted, int max) => max > 0 ? Math.Min(wanted, max) : wanted;
}
