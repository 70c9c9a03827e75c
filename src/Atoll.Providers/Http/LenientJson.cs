using System.Globalization;
using System.Text.Json;

namespace Atoll.Providers.Http;

/// <summary>
/// Field readers for provider JSON whose shapes come from third-party SDKs or generated specs and drift: missing and
/// null are the same, numbers may arrive as strings (and strings as numbers).
/// </summary>
internal static class LenientJson
{
    public static JsonElement? Prop(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined)
            ? v
            : null;

    public static string? Str(JsonElement e, string name) => Prop(e, name) switch
    {
        { ValueKind: JsonValueKind.String } v => v.GetString(),
        { ValueKind: JsonValueKind.Number } v => v.GetRawText(),
        _ => null,
    };

    public static decimal? Dec(JsonElement e, string name) => Prop(e, name) switch
    {
        { ValueKind: JsonValueKind.Number } v when v.TryGetDecimal(out var d) => d,
        { ValueKind: JsonValueKind.String } v when decimal.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => null,
    };

    public static int Int(JsonElement e, string name) => Dec(e, name) is { } d ? (int)Math.Floor(d) : 0;

    public static bool Bool(JsonElement e, string name) => Prop(e, name) is { ValueKind: JsonValueKind.True };
}
