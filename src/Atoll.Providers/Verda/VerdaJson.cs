using System.Globalization;
using System.Text.Json;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;

namespace Atoll.Providers.Verda;

/// <summary>Reads Verda's JSON, where prices come as strings ("2.1900") or numbers depending on the endpoint and day.</summary>
internal static class VerdaJson
{
    public const string Spot = "spot";
    public const string OnDemand = "on-demand";

    /// <summary>
    /// Offers from <c>GET /instance-types</c> and the two <c>GET /instance-availability</c> lists: for every location
    /// either list names, a spot and an on-demand offer per type, available when that list names the type there.
    /// </summary>
    public static List<Offer> Offers(JsonElement types, JsonElement spot, JsonElement onDemand, string provider, IReadOnlyList<string>? regions)
    {
        var spotByLocation = Availability(spot);
        var onDemandByLocation = Availability(onDemand);
        var locations = spotByLocation.Keys.Union(onDemandByLocation.Keys, StringComparer.Ordinal)
            .Where(l => regions is not { Count: > 0 } || regions.Contains(l, StringComparer.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
        var offers = new List<Offer>();
        if (types.ValueKind != JsonValueKind.Array)
        {
            return offers;
        }
        foreach (var type in types.EnumerateArray())
        {
            var name = Text(type, "instance_type");
            var price = Number(type, "price_per_hour");
            if (name is null || price is null)
            {
                continue;
            }
            var gpu = Child(type, "gpu");
            var gpus = (int)(Number(gpu, "number_of_gpus") ?? 0);
            var model = gpus > 0 ? GpuNames.Canonical(Text(gpu, "description")) ?? GpuNames.Canonical(name) ?? GpuNames.Canonical(Text(type, "model")) : null;
            var memory = GpuMemory(Child(type, "gpu_memory"), gpus, model);
            var vcpus = (int)(Number(Child(type, "cpu"), "number_of_cores") ?? 0);
            var ram = (int)(Number(Child(type, "memory"), "size_in_gigabytes") ?? 0);
            var spotPrice = Number(type, "spot_price");
            foreach (var location in locations)
            {
                offers.Add(new Offer(provider, ProviderTypes.Verda, name, location, OnDemand, model, gpus, memory, vcpus, ram,
                    price.Value, price.Value, Listed(onDemandByLocation, location, name)));
                if (spotPrice is > 0)
                {
                    offers.Add(new Offer(provider, ProviderTypes.Verda, name, location, Spot, model, gpus, memory, vcpus, ram,
                        spotPrice.Value, price.Value, Listed(spotByLocation, location, name)));
                }
            }
        }
        return offers;
    }

    /// <summary>An instance object of <c>GET /instances</c> or <c>GET /instances/{id}</c>.</summary>
    public static CloudInstance Instance(JsonElement item)
    {
        var status = Text(item, "status") ?? "";
        var isSpot = item.TryGetProperty("is_spot", out var s) && s.ValueKind == JsonValueKind.True;
        return new CloudInstance(
            Text(item, "id") ?? "", Text(item, "hostname") ?? "", State(status, isSpot), status,
            Text(item, "ip"), null, Text(item, "location") ?? Text(item, "location_code"), Text(item, "instance_type"),
            isSpot ? Spot : OnDemand);
    }

    /// <summary>Verda's status word in Atoll's terms.</summary>
    public static InstanceState State(string status, bool isSpot) => status switch
    {
        "new" or "ordered" or "validating" or "provisioning" or "restoring" => InstanceState.Pending,
        "running" => InstanceState.Running,
        // Verda signals no preemption event: a spot instance going offline is its spot discontinue. Atoll never
        // shuts its instances down, so an on-demand one offline is broken.
        "offline" => isSpot ? InstanceState.Preempted : InstanceState.Failed,
        "error" => InstanceState.Failed,
        // Hibernation stops the machine (its disk is kept): as a node it is going away.
        "starting_hibernation" or "hibernating" or "deleting" => InstanceState.Terminating,
        "discontinued" or "deleted" => InstanceState.Terminated,
        _ => InstanceState.Unknown,
    };

    /// <summary>An id answered as plain text (what Verda documents), a JSON string, or a JSON object with <c>id</c>.</summary>
    public static string? Id(string body)
    {
        var text = body.Trim();
        if (text.StartsWith('{') || text.StartsWith('"'))
        {
            try
            {
                using var doc = JsonDocument.Parse(text);
                return doc.RootElement.ValueKind == JsonValueKind.String ? doc.RootElement.GetString() : Text(doc.RootElement, "id");
            }
            catch (JsonException)
            {
                return null;
            }
        }
        return text.Length > 0 ? text : null;
    }

    public static string? Text(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString() is { Length: > 0 } s ? s : null,
                JsonValueKind.Number => value.GetRawText(),
                _ => null,
            }
            : null;

    /// <summary>A number given as a JSON number or as a string; null when absent or unreadable.</summary>
    public static decimal? Number(JsonElement element, string property)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(property, out var value))
        {
            return null;
        }
        return value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetDecimal(out var d) => d,
            JsonValueKind.String when decimal.TryParse(value.GetString(), NumberStyles.Number, CultureInfo.InvariantCulture, out var d) => d,
            _ => null,
        };
    }

    private static JsonElement Child(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var child) ? child : default;

    // gpu_memory.size_in_gigabytes is the node's total (unconfirmed): per GPU is total / count. When that comes out
    // far below what the model is known to have, the size was per GPU already.
    private static int GpuMemory(JsonElement gpuMemory, int gpus, string? model)
    {
        var size = (int)(Number(gpuMemory, "size_in_gigabytes") ?? GpuNames.MemoryInText(Text(gpuMemory, "description")) ?? 0);
        if (gpus <= 0)
        {
            return 0;
        }
        if (size <= 0)
        {
            return GpuNames.MemoryGiB(model);
        }
        var perGpu = size / gpus;
        return perGpu * 2 < GpuNames.MemoryGiB(model) ? size : perGpu;
    }

    private static Dictionary<string, HashSet<string>> Availability(JsonElement list)
    {
        var byLocation = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        if (list.ValueKind != JsonValueKind.Array)
        {
            return byLocation;
        }
        foreach (var entry in list.EnumerateArray())
        {
            if (Text(entry, "location_code") is not { } location)
            {
                continue;
            }
            var set = byLocation.TryGetValue(location, out var existing) ? existing : byLocation[location] = new HashSet<string>(StringComparer.Ordinal);
            if (entry.TryGetProperty("availabilities", out var names) && names.ValueKind == JsonValueKind.Array)
            {
                set.UnionWith(names.EnumerateArray().Where(n => n.ValueKind == JsonValueKind.String).Select(n => n.GetString()!));
            }
        }
        return byLocation;
    }

    private static bool Listed(Dictionary<string, HashSet<string>> byLocation, string location, string type) =>
        byLocation.TryGetValue(location, out var set) && set.Contains(type);
}
