using System.Text.Json;
using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using static Atoll.Providers.Http.LenientJson;

namespace Atoll.Providers.VoltagePark;

/// <summary>Voltage Park JSON (presets, virtual machines) into Atoll's offers and instances.</summary>
internal static class VoltageParkMapping
{
    /// <summary>
    /// One offer for a preset of a location; null when the preset has no id or no price. The price is
    /// <c>compute_rate_hourly</c> plus <c>storage_rate_hourly</c>, both read as the whole VM's hourly charge
    /// (unconfirmed: if storage turns out to be per GB, adding it as is only overstates by a fraction of a cent).
    /// Instant VMs are on-demand: the API lists no spot presets even though a VM's <c>type</c> may be <c>spot</c>.
    /// </summary>
    public static Offer? ToOffer(string provider, string region, JsonElement preset)
    {
        var id = Str(preset, "id");
        if (id is null || Dec(preset, "compute_rate_hourly") is not { } compute)
        {
            return null;
        }
        var price = compute + (Dec(preset, "storage_rate_hourly") ?? 0);
        var resources = Prop(preset, "resources") ?? default;
        var (rawGpu, count) = Gpu(resources);
        // Canonical names from Core's catalog (what pools ask for); a GPU Atoll does not know stays null.
        var model = GpuModels.Normalize(rawGpu);
        var memory = rawGpu is null ? 0 : GpuNames.MemoryInText(rawGpu) ?? GpuModels.MemoryGiB(model);
        return new Offer(
            provider, ProviderTypes.VoltagePark, id, region, CapacityTypes.OnDemand, model, count, memory,
            Int(resources, "vcpu_count"), Int(resources, "ram_gb"), price, price, Int(preset, "available_vms") > 0);
    }

    /// <summary>A VM from <c>GET /virtual-machines/{id}</c> or a list page.</summary>
    public static CloudInstance ToInstance(JsonElement vm, string? fallbackId = null)
    {
        var status = Str(vm, "status") ?? "";
        var capacity = string.Equals(Str(vm, "type"), "spot", StringComparison.OrdinalIgnoreCase) ? CapacityTypes.Spot : CapacityTypes.OnDemand;
        return new CloudInstance(
            Str(vm, "id") ?? Str(vm, "vm_id") ?? fallbackId ?? "",
            Str(vm, "name") ?? "",
            State(status),
            status,
            NonEmpty(Str(vm, "public_ip")),
            NonEmpty(Str(vm, "internal_ip")),
            Str(vm, "location_id") ?? Str(vm, "location"),
            Str(vm, "config_id") ?? Str(vm, "preset_id"),
            capacity);
    }

    /// <summary>
    /// Documented statuses: <c>Running|Stopped|StoppedDisassociated|Terminated|Outbid|Relocating</c>. Atoll never
    /// stops a VM, so <c>Stopped</c> and <c>StoppedDisassociated</c> (stopped and its host given away) mean someone
    /// or something outside Atoll took the node down: it serves nothing yet keeps billing, so it is Failed and the
    /// claim is replaced (Terminating would wait for a disappearance that never comes). Words outside the documented
    /// set that plainly mean "being set up" are Pending; anything else is Unknown.
    /// </summary>
    public static InstanceState State(string status) => status.ToLowerInvariant() switch
    {
        "running" => InstanceState.Running,
        "stopped" or "stoppeddisassociated" => InstanceState.Failed,
        "terminated" => InstanceState.Terminated,
        "outbid" => InstanceState.Preempted,
        "relocating" or "provisioning" or "creating" or "starting" or "pending" => InstanceState.Pending,
        "terminating" or "deleting" => InstanceState.Terminating,
        "error" or "failed" => InstanceState.Failed,
        _ => InstanceState.Unknown,
    };

    // Presets name one GPU model (resources.gpus {"h100-sxm5-80gb": {"count": 8}}); if ever more, the largest count wins.
    private static (string? Raw, int Count) Gpu(JsonElement resources)
    {
        if (Prop(resources, "gpus") is not { ValueKind: JsonValueKind.Object } gpus)
        {
            return (null, 0);
        }
        (string? Raw, int Count) best = (null, 0);
        foreach (var gpu in gpus.EnumerateObject())
        {
            var count = gpu.Value.ValueKind == JsonValueKind.Object ? Int(gpu.Value, "count") : 0;
            if (best.Raw is null || count > best.Count)
            {
                best = (gpu.Name, count);
            }
        }
        return best;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
