using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Atoll.Testing.Providers;

/// <summary>The JSON a <see cref="LambdaStandIn"/> answers, in Lambda's documented shapes.</summary>
internal static class LambdaStandInJson
{
    public static JsonObject Instance(LambdaStandInInstance instance, LambdaStandInType? type, bool omitGpuSpecs)
    {
        var json = new JsonObject
        {
            ["id"] = instance.Id,
            ["name"] = instance.Name,
            ["status"] = instance.Status,
            ["region"] = new JsonObject { ["name"] = instance.Region, ["description"] = instance.Region },
            ["instance_type"] = type is null ? new JsonObject { ["name"] = instance.InstanceType } : Type(type, omitGpuSpecs),
            ["ssh_key_names"] = new JsonArray(instance.SshKeyNames.Select(k => (JsonNode?)k).ToArray()),
            ["file_system_names"] = new JsonArray(),
        };
        // Lambda leaves ip (and the hostname made from it) out until late in boot.
        if (instance.Ip is not null)
        {
            json["ip"] = instance.Ip;
            json["private_ip"] = instance.PrivateIp;
            json["hostname"] = instance.Ip.Replace('.', '-') + ".cloud.lambda.ai";
        }
        return json;
    }

    public static JsonObject Type(LambdaStandInType type, bool omitGpuSpecs)
    {
        var specs = new JsonObject { ["vcpus"] = type.VCpus, ["memory_gib"] = type.MemoryGiB, ["storage_gib"] = type.StorageGiB };
        if (!omitGpuSpecs)
        {
            specs["gpus"] = type.Gpus;
        }
        return new JsonObject
        {
            ["name"] = type.Name,
            ["description"] = type.Description,
            ["gpu_description"] = type.Description,
            ["price_cents_per_hour"] = type.PriceCentsPerHour,
            ["specs"] = specs,
        };
    }

    public static IResult Missing() =>
        Answer(404, Error("global/object-does-not-exist", "Specified instance does not exist.", "Check the instance ID and try again."));

    public static IResult Invalid(string message) =>
        Answer(400, Error("global/invalid-parameters", message, "Check the request and try again."));

    public static string Error(string code, string message, string suggestion) =>
        new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message, ["suggestion"] = suggestion } }.ToJsonString();

    public static IResult Answer(int status, JsonNode body) => Answer(status, body.ToJsonString());

    public static IResult Answer(int status, string body) => Results.Content(body, "application/json", statusCode: status);

    /// <summary>The request's JSON body, or null when it is not JSON.</summary>
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

    /// <summary>A string property, or null when missing or not a string.</summary>
    public static string? Text(JsonNode? node, string property) =>
        node is JsonObject o && o[property] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
