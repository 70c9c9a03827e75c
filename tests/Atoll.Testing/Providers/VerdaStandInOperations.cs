using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Atoll.Testing.Providers;

/// <summary>
/// <c>POST /instances</c> (validation, credit limit, capacity, then the new id as plain text) and <c>PUT /instances</c>
/// (actions) of a <see cref="VerdaStandIn"/>.
/// </summary>
internal static class VerdaStandInOperations
{
    public static IResult Create(JsonNode? body, VerdaStandIn account)
    {
        var type = VerdaStandInJson.Text(body, "instance_type");
        var location = VerdaStandInJson.Text(body, "location_code");
        var image = VerdaStandInJson.Text(body, "image");
        var hostname = VerdaStandInJson.Text(body, "hostname");
        var scriptId = VerdaStandInJson.Text(body, "startup_script_id");
        var isSpot = body?["is_spot"] is JsonValue spot && spot.TryGetValue<bool>(out var s) && s;
        return account.Locked(() =>
        {
            if (type is null || !account.Types.ContainsKey(type))
            {
                return Invalid($"Invalid instance type {type}");
            }
            if (location is null || !account.Locations.Contains(location))
            {
                return Invalid($"Invalid location_code {location}");
            }
            if (string.IsNullOrEmpty(image) || string.IsNullOrEmpty(hostname))
            {
                return Invalid("image and hostname are required");
            }
            if (scriptId is not null && !account.Scripts.ContainsKey(scriptId))
            {
                return Invalid($"Startup script {scriptId} does not exist");
            }
            if (account.MaxInstances is { } max && account.InstanceList.Count >= max)
            {
                return VerdaStandInJson.Answer(400, VerdaStandInJson.Error("insufficient_funds", "Not enough credit to deploy this instance: top up your balance"));
            }
            var key = (type, location, isSpot);
            if (account.CapacityTable.GetValueOrDefault(key) <= 0)
            {
                // Verda has no capacity code: a create it cannot place is refused as an invalid request.
                return Invalid($"No {(isSpot ? "spot " : "")}capacity for {type} in {location} right now");
            }
            account.CapacityTable[key]--;
            var instance = new VerdaStandInInstance(Guid.NewGuid().ToString(), hostname, type, location, isSpot, account.Now)
            {
                Description = VerdaStandInJson.Text(body, "description") ?? "",
                Image = image,
                SshKeyIds = VerdaStandInJson.Strings(body?["ssh_key_ids"]),
                StartupScriptId = scriptId,
                StartupScript = scriptId is null ? null : account.Scripts[scriptId].Script,
                OsVolume = body?["os_volume"]?.ToJsonString(),
                HoldsCapacity = true,
            };
            account.InstanceList.Add(instance);
            return VerdaStandInJson.Id(instance.Id, account.AnswerIdsAsJson);
        });
    }

    public static IResult Act(JsonNode? body, VerdaStandIn account)
    {
        var ids = VerdaStandInJson.Strings(body?["id"]);
        var action = VerdaStandInJson.Text(body, "action");
        return account.Locked(() =>
        {
            var found = ids.Select(id => account.InstanceList.FirstOrDefault(i => i.Id == id)).ToList();
            if (ids.Count == 0 || found.Any(i => i is null))
            {
                return VerdaStandIn.NotFound("Instance not found");
            }
            foreach (var instance in found.OfType<VerdaStandInInstance>())
            {
                switch (action)
                {
                    case "delete":
                        account.Release(instance);
                        account.InstanceList.Remove(instance);
                        break;
                    case "shutdown":
                        instance.Status = "offline";
                        break;
                    case "start" or "restore":
                        instance.Status = "running";
                        break;
                    case "hibernate":
                        instance.Status = "hibernating";
                        break;
                    default:
                        return VerdaStandInJson.Answer(400, VerdaStandInJson.Error("invalid_request", $"Unknown action {action}"));
                }
            }
            return Results.Accepted();
        });
    }

    private static IResult Invalid(string message) => VerdaStandInJson.Answer(400, VerdaStandInJson.Error("invalid_request", message));
}
