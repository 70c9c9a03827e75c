using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Atoll.Testing.Providers;

/// <summary>The JSON a <see cref="TensorDockStandIn"/> answers: providers.md "TensorDock (v2)" and TensorDock's v2 docs.</summary>
internal static class TensorDockStandInJson
{
    public static JsonObject Gpu(TensorDockStandInGpu gpu, int free) => new()
    {
        ["v0Name"] = gpu.V0Name,
        ["displayName"] = gpu.DisplayName,
        ["max_count"] = Math.Max(0, Math.Min(gpu.MaxPerVm, free)),
        ["price_per_hr"] = gpu.PricePerHour,
        ["resources"] = new JsonObject { ["max_vcpus"] = gpu.MaxVcpus, ["max_ram_gb"] = gpu.MaxRamGb, ["max_storage_gb"] = gpu.MaxStorageGb },
        ["pricing"] = new JsonObject { ["per_vcpu_hr"] = gpu.PerVcpuHour, ["per_gb_ram_hr"] = gpu.PerGbRamHour, ["per_gb_storage_hr"] = gpu.PerGbStorageHour },
        ["network_features"] = new JsonObject { ["dedicated_ip_available"] = true, ["port_forwarding_available"] = true, ["network_storage_available"] = false },
    };

    /// <summary>The attributes of a VM; the IP under <c>ipAddress</c>, or <c>ip_address</c> with <c>ssh_port</c> when <paramref name="snakeCaseIp"/>.</summary>
    public static JsonObject Attributes(TensorDockStandInInstance vm, bool snakeCaseIp)
    {
        var attributes = new JsonObject
        {
            ["name"] = vm.Name,
            ["status"] = vm.Status,
            ["location_id"] = vm.Location,
            ["resources"] = new JsonObject
            {
                ["vcpu_count"] = vm.VcpuCount,
                ["ram_gb"] = vm.RamGb,
                ["storage_gb"] = vm.StorageGb,
                ["gpus"] = new JsonArray(new JsonObject { ["gpuV0Name"] = vm.Gpu, ["count"] = vm.GpuCount }),
            },
        };
        if (vm.Ip is not null)
        {
            if (snakeCaseIp)
            {
                attributes["ip_address"] = vm.Ip;
                attributes["ssh_port"] = 22;
            }
            else
            {
                attributes["ipAddress"] = vm.Ip;
            }
        }
        return attributes;
    }

    /// <summary><c>GET /instances/{id}</c>: <c>{"data":{type,id,attributes}}</c> (the v2 instance schema).</summary>
    public static JsonObject Single(TensorDockStandInInstance vm, bool snakeCaseIp) =>
        new() { ["data"] = new JsonObject { ["type"] = "virtualmachine", ["id"] = vm.Id, ["attributes"] = Attributes(vm, snakeCaseIp) } };

    /// <summary>A list item as observed: flat, <c>{type,id,name,status,ipAddress,...}</c>.</summary>
    public static JsonObject Item(TensorDockStandInInstance vm, bool snakeCaseIp)
    {
        var item = new JsonObject { ["type"] = "virtualmachine", ["id"] = vm.Id };
        foreach (var (key, value) in Attributes(vm, snakeCaseIp).ToList())
        {
            item[key] = value?.DeepClone();
        }
        return item;
    }

    public static IResult Error(int status, string title, string detail) => Answer(status, new JsonObject
    {
        ["errors"] = new JsonArray(new JsonObject { ["status"] = status.ToString(System.Globalization.CultureInfo.InvariantCulture), ["title"] = title, ["detail"] = detail }),
    });

    public static string ErrorBody(int status, string title, string detail) =>
        $$"""{"errors":[{"status":"{{status}}","title":"{{title}}","detail":"{{detail}}"}]}""";

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

    public static int Number(JsonNode? node, string property) =>
        node is JsonObject o && o[property] is JsonValue v && v.TryGetValue<int>(out var n) ? n : 0;

    public static List<string> Strings(JsonNode? node) =>
        node is JsonArray a ? a.Select(n => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : n?.ToJsonString() ?? "").ToList() : [];
}
