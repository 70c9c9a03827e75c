using System.Text.Json;
using YamlDotNet.Serialization;

namespace Atoll.Cli.Output;

/// <summary>
/// <c>-o yaml</c> for API answers that are not resources (claims, offers): the JSON answer written as block YAML,
/// fields in the server's order and null fields left out. Resources go through <c>ResourceYaml.Serialize</c> instead.
/// </summary>
internal static class FleetYaml
{
    private static readonly ISerializer Serializer = new SerializerBuilder().WithQuotingNecessaryStrings().DisableAliases().Build();

    public static string From(JsonElement json) => Serializer.Serialize(Plain(json));

    private static object? Plain(JsonElement e) => e.ValueKind switch
    {
        // A fresh Dictionary keeps insertion order, so fields come out in the server's order.
        JsonValueKind.Object => new Dictionary<string, object?>(e.EnumerateObject()
            .Where(p => p.Value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
            .Select(p => KeyValuePair.Create(p.Name, Plain(p.Value)))),
        JsonValueKind.Array => e.EnumerateArray().Select(Plain).ToList(),
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt64(out var l) ? l : e.GetDecimal(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };
}
