using System.Text.Json;

namespace Atoll.System.Tests;

/// <summary>
/// A node as the API and <c>atoll nodes -o json</c> show it, read by wire names (camelCase) the way a script
/// with jq would, so a renamed field fails these tests.
/// </summary>
internal sealed class NodeJson(JsonElement node)
{
    public JsonElement Raw { get; } = node.Clone();

    public string Name => Raw.GetProperty("name").GetString()!;

    public string Provider => Raw.GetProperty("provider").GetString()!;

    public string CapacityType => Raw.GetProperty("capacityType").GetString()!;

    public IReadOnlyList<JsonElement> Gpus => [.. Raw.GetProperty("gpu").GetProperty("gpus").EnumerateArray()];

    public DateTimeOffset LastHeartbeatAt => Raw.GetProperty("lastHeartbeatAt").GetDateTimeOffset();

    /// <summary>Status of the condition of that type ("True", "False", "Unknown"), or null if the node has none.</summary>
    public string? Status(string type) => Condition(type)?.GetProperty("status").GetString();

    public string? Reason(string type) => Condition(type)?.GetProperty("reason").GetString();

    public static IReadOnlyList<NodeJson> ListFrom(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.GetProperty("items").EnumerateArray().Select(e => new NodeJson(e))];
    }

    public static NodeJson From(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return new NodeJson(doc.RootElement);
    }

    public override string ToString() => Raw.GetRawText();

    private JsonElement? Condition(string type)
    {
        foreach (var c in Raw.GetProperty("conditions").EnumerateArray())
        {
            if (c.GetProperty("type").GetString() == type)
            {
                return c;
            }
        }
        return null;
    }
}
