using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Atoll.Testing.Providers;

/// <summary>The JSON a <see cref="VerdaStandIn"/> answers, in Verda's documented shapes.</summary>
internal static class VerdaStandInJson
{
    public static JsonObject Type(VerdaStandInType type, bool pricesAsStrings) => new()
    {
        ["id"] = DeterministicId(type.Name),
        ["instance_type"] = type.Name,
        ["price_per_hour"] = Price(type.PricePerHour, pricesAsStrings),
        ["spot_price"] = Price(type.SpotPrice, pricesAsStrings),
        ["dynamic_price"] = Price(type.PricePerHour, pricesAsStrings),
        ["max_dynamic_price"] = Price(type.PricePerHour * 1.5m, pricesAsStrings),
        ["currency"] = "usd",
        ["description"] = type.GpuDescription,
        ["model"] = type.GpuDescription,
        ["cpu"] = new JsonObject { ["description"] = $"{type.VCpus} CPU", ["number_of_cores"] = type.VCpus },
        ["gpu"] = new JsonObject { ["description"] = type.GpuDescription, ["number_of_gpus"] = type.Gpus },
        ["memory"] = new JsonObject { ["description"] = $"{type.MemoryGiB}GB RAM", ["size_in_gigabytes"] = type.MemoryGiB },
        ["gpu_memory"] = new JsonObject { ["description"] = $"{type.GpuMemoryGiB}GB GPU RAM", ["size_in_gigabytes"] = type.GpuMemoryGiB },
        ["storage"] = new JsonObject { ["description"] = "dynamic" },
    };

    public static JsonObject Instance(VerdaStandInInstance instance, VerdaStandInType? type, bool pricesAsStrings)
    {
        var json = type is null ? new JsonObject() : Type(type, pricesAsStrings);
        json.Remove("spot_price");
        json.Remove("dynamic_price");
        json.Remove("max_dynamic_price");
        json.Remove("currency");
        json.Remove("model");
        json["id"] = instance.Id;
        json["instance_type"] = instance.InstanceType;
        json["image"] = instance.Image;
        json["location"] = instance.Location;
        json["hostname"] = instance.Hostname;
        json["description"] = instance.Description;
        json["ip"] = instance.Ip;
        json["status"] = instance.Status;
        json["created_at"] = instance.CreatedAt.ToString("O", CultureInfo.InvariantCulture);
        json["ssh_key_ids"] = new JsonArray(instance.SshKeyIds.Select(k => (JsonNode?)k).ToArray());
        json["startup_script_id"] = instance.StartupScriptId;
        json["os_volume_id"] = DeterministicId(instance.Id + "-os");
        json["is_spot"] = instance.IsSpot;
        return json;
    }

    public static string Error(string code, string message) =>
        new JsonObject { ["code"] = code, ["message"] = message }.ToJsonString();

    public static IResult Answer(int status, JsonNode body) => Answer(status, body.ToJsonString());

    public static IResult Answer(int status, string body) => Results.Content(body, "application/json", statusCode: status);

    /// <summary>An id the way Verda answers creates: plain text, or (when asked) a JSON object with <c>id</c>.</summary>
    public static IResult Id(string id, bool asJson) =>
        asJson ? Answer(201, new JsonObject { ["id"] = id }) : Results.Content(id, "text/plain", statusCode: 201);

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

    /// <summary>A list of strings given as an array or as one string (Verda's actions accept both).</summary>
    public static List<string> Strings(JsonNode? node) => node switch
    {
        JsonArray array => array.OfType<JsonValue>().Select(v => v.TryGetValue<string>(out var s) ? s : "").ToList(),
        JsonValue value when value.TryGetValue<string>(out var one) => [one],
        _ => [],
    };

    private static JsonValue Price(decimal price, bool asString) =>
        asString ? JsonValue.Create(price.ToString("0.0000", CultureInfo.InvariantCulture)) : JsonValue.Create(price);

    private static string DeterministicId(string seed) =>
        new Guid(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(seed)).AsSpan(0, 16)).ToString();
}
