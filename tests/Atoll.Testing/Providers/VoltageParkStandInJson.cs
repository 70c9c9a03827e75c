using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Atoll.Testing.Providers;

/// <summary>The JSON a <see cref="VoltageParkStandIn"/> answers: providers.md "Voltage Park" and the public SDK's models.</summary>
internal static class VoltageParkStandInJson
{
    public static JsonObject Location(string id, string name, IEnumerable<JsonObject> presets) => new()
    {
        ["id"] = id,
        ["name"] = name,
        ["available_presets"] = new JsonArray(presets.Select(p => (JsonNode?)p).ToArray()),
    };

    public static JsonObject Preset(VoltageParkStandInPreset preset, int availableVms) => new()
    {
        ["id"] = preset.Id,
        ["resources"] = new JsonObject
        {
            ["gpus"] = new JsonObject { [preset.Gpu] = new JsonObject { ["count"] = preset.GpuCount } },
            ["ram_gb"] = preset.RamGb,
            ["storage_gb"] = preset.StorageGb,
            ["vcpu_count"] = preset.VCpus,
        },
        ["operating_system"] = preset.OperatingSystem,
        ["compute_rate_hourly"] = preset.ComputeRateHourly,
        ["storage_rate_hourly"] = preset.StorageRateHourly,
        ["available_vms"] = availableVms,
    };

    public static JsonObject Vm(VoltageParkStandInVm vm, VoltageParkStandInPreset? preset) => new()
    {
        ["id"] = vm.Id,
        ["name"] = vm.Name,
        ["type"] = vm.Type,
        ["status"] = vm.Status,
        ["public_ip"] = vm.PublicIp,
        ["internal_ip"] = vm.InternalIp,
        ["port_forwards"] = new JsonArray(),
        ["pricing"] = new JsonObject
        {
            ["compute_rate_hourly"] = preset?.ComputeRateHourly ?? 0,
            ["storage_rate_hourly"] = preset?.StorageRateHourly ?? 0,
        },
    };

    /// <summary>A page in the SDK's <c>ListResponse</c> shape, plus <c>next</c> when <paramref name="next"/> is given.</summary>
    public static JsonObject Page(IReadOnlyList<JsonObject> all, int offset, int limit, string? next)
    {
        var results = all.Skip(offset).Take(limit).Select(o => (JsonNode?)o).ToArray();
        var page = new JsonObject
        {
            ["results"] = new JsonArray(results),
            ["total_result_count"] = all.Count,
            ["has_previous"] = offset > 0,
            ["has_next"] = offset + limit < all.Count,
        };
        if (next is not null && offset + limit < all.Count)
        {
            page["next"] = next;
        }
        return page;
    }

    public static IResult Detail(int status, string detail) => Answer(status, new JsonObject { ["detail"] = detail });

    public static IResult Answer(int status, JsonNode body) => Results.Content(body.ToJsonString(), "application/json", statusCode: status);

    public static async Task<JsonNode?> ReadAsync(HttpRequest request)
    {
        try
        {
            return await JsonNode.ParseAsync(request.Body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static string? Text(JsonNode? node, string property) =>
        node is JsonObject o && o[property] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static List<string> Strings(JsonNode? node) =>
        node is JsonArray a ? a.Select(n => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : n?.ToJsonString() ?? "").ToList() : [];

    public static int Query(HttpRequest request, string name, int fallback) =>
        int.TryParse(request.Query[name], out var value) && value >= 0 ? value : fallback;
}
