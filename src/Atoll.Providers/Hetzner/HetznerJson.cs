using System.Globalization;
using System.Text.Json;

namespace Atoll.Providers.Hetzner;

/// <summary>Field readers for Hetzner Cloud JSON (prices are decimal strings, ids are numbers).</summary>
internal static class HetznerJson
{
    public static JsonElement? Prop(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined)
            ? v
            : null;

    public static JsonElement? Path(JsonElement e, params string[] names)
    {
        JsonElement? current = e;
        foreach (var name in names)
        {
            current = current is { } c ? Prop(c, name) : null;
        }
        return current;
    }

    public static string? Str(JsonElement e, params string[] path) => Path(e, path) switch
    {
        { ValueKind: JsonValueKind.String } v => v.GetString(),
        { ValueKind: JsonValueKind.Number } v => v.GetRawText(),
        _ => null,
    };

    /// <summary>A decimal written as a string (<c>"0.0060000000"</c>, Hetzner's prices) or as a number.</summary>
    public static decimal? Dec(JsonElement e, params string[] path) => Path(e, path) switch
    {
        { ValueKind: JsonValueKind.Number } v when v.TryGetDecimal(out var d) => d,
        { ValueKind: JsonValueKind.String } v when decimal.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => null,
    };

    public static int Int(JsonElement e, params string[] path) => Dec(e, path) is { } d ? (int)Math.Floor(d) : 0;

    public static IEnumerable<JsonElement> Array(JsonElement e, params string[] path) =>
        Path(e, path) is { ValueKind: JsonValueKind.Array } a ? a.EnumerateArray() : [];
}
