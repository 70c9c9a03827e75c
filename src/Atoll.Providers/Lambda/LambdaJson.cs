using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;

namespace Atoll.Providers.Lambda;

/// <summary>
/// Reads Lambda Cloud's JSON. The <c>specs</c> field names are unconfirmed (providers.md), so every field is
/// optional and the GPU shape falls back on the type name (<c>gpu_8x_h100_sxm5</c>) and description
/// (<c>8x H100 (80 GB SXM5)</c>).
/// </summary>
internal static partial class LambdaJson
{
    public const string OnDemand = "on-demand";

    /// <summary>One offer per instance type and region with capacity (Lambda lists no others, and sells no spot).</summary>
    public static List<Offer> Offers(JsonElement root, string provider, IReadOnlyList<string>? regions)
    {
        var offers = new List<Offer>();
        if (!root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object)
        {
            return offers;
        }
        foreach (var entry in data.EnumerateObject())
        {
            var type = entry.Value.TryGetProperty("instance_type", out var t) ? t : entry.Value;
            var name = Text(type, "name") ?? entry.Name;
            var description = Text(type, "description");
            var price = Number(type, "price_cents_per_hour") / 100m;
            var specs = type.TryGetProperty("specs", out var s) && s.ValueKind == JsonValueKind.Object ? s : default;
            var model = GpuNames.Canonical(name) ?? GpuNames.Canonical(description);
            var gpus = GpuCount(specs, name, description, model);
            var memory = model is null ? 0 : GpuNames.MemoryInText(description) ?? GpuNames.MemoryGiB(model);
            var vcpus = (int)Number(specs, "vcpus");
            var ram = (int)Number(specs, "memory_gib");
            if (!entry.Value.TryGetProperty("regions_with_capacity_available", out var available) || available.ValueKind != JsonValueKind.Array)
            {
                continue;
            }
            foreach (var region in available.EnumerateArray())
            {
                var regionName = region.ValueKind == JsonValueKind.String ? region.GetString() : Text(region, "name");
                if (regionName is null || (regions is { Count: > 0 } && !regions.Contains(regionName, StringComparer.Ordinal)))
                {
                    continue;
                }
                offers.Add(new Offer(provider, ProviderTypes.Lambda, name, regionName, OnDemand, model, gpus,
                    memory, vcpus, ram, price, price, Available: true));
            }
        }
        return offers;
    }

    /// <summary>An instance object (the <c>data</c> of <c>GET /instances/{id}</c> or an item of <c>GET /instances</c>).</summary>
    public static CloudInstance Instance(JsonElement item)
    {
        var status = Text(item, "status") ?? "";
        var region = item.TryGetProperty("region", out var r) ? (r.ValueKind == JsonValueKind.String ? r.GetString() : Text(r, "name")) : null;
        var type = item.TryGetProperty("instance_type", out var t) ? (t.ValueKind == JsonValueKind.String ? t.GetString() : Text(t, "name")) : null;
        return new CloudInstance(
            Text(item, "id") ?? "", Text(item, "name") ?? "", State(status), status,
            Text(item, "ip"), Text(item, "private_ip"), region, type, OnDemand);
    }

    /// <summary>Lambda's status word in Atoll's terms (<c>preempted</c> is unconfirmed but cheap to recognise).</summary>
    public static InstanceState State(string status) => status switch
    {
        "booting" => InstanceState.Pending,
        "active" => InstanceState.Running,
        "unhealthy" => InstanceState.Failed,
        "terminating" => InstanceState.Terminating,
        "terminated" => InstanceState.Terminated,
        "preempted" => InstanceState.Preempted,
        _ => InstanceState.Unknown,
    };

    public static string? Text(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString() is { Length: > 0 } s ? s : null,
                JsonValueKind.Number => value.GetRawText(),
                _ => null,
            }
            : null;

    private static decimal Number(JsonElement element, string property)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(property, out var value))
        {
            return 0;
        }
        return value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetDecimal(out var d) => d,
            JsonValueKind.String when decimal.TryParse(value.GetString(), NumberStyles.Number, CultureInfo.InvariantCulture, out var d) => d,
            _ => 0,
        };
    }

    private static int GpuCount(JsonElement specs, string name, string? description, string? model)
    {
        if (specs.ValueKind == JsonValueKind.Object && specs.TryGetProperty("gpus", out var gpus))
        {
            if (gpus.ValueKind == JsonValueKind.Number && gpus.TryGetInt32(out var n))
            {
                return n;
            }
            if (gpus.ValueKind == JsonValueKind.Array)
            {
                return gpus.GetArrayLength();
            }
        }
        // Only GPU types: "cpu_4x_general" counts CPUs.
        if (model is null && !name.StartsWith("gpu", StringComparison.OrdinalIgnoreCase))
        {
            return 0;
        }
        foreach (var text in new[] { name, description })
        {
            var match = text is null ? Match.Empty : CountInName().Match(text);
            if (match.Success)
            {
                return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            }
        }
        return model is null ? 0 : 1;
    }

    // "gpu_8x_h100_sxm5" and "8x H100 (80 GB SXM5)".
    [GeneratedRegex(@"(?:^|[^0-9])(\d{1,2})x(?:_|\s)", RegexOptions.IgnoreCase)]
    private static partial Regex CountInName();
}
