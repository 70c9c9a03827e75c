using System.Text.Json;

using static Atoll.Providers.Http.LenientJson;

namespace Atoll.Providers.TensorDock;

/// <summary>Lenient field readers for TensorDock's v2 JSON (its shapes come from generated specs and drift).</summary>
internal static class TensorDockJson
{
    /// <summary>The array under <paramref name="path"/> (e.g. <c>data</c>, <c>locations</c>), or an empty list.</summary>
    public static IEnumerable<JsonElement> Array(JsonElement e, params string[] path)
    {
        foreach (var name in path)
        {
            if (Prop(e, name) is not { } next)
            {
                return [];
            }
            e = next;
        }
        return e.ValueKind == JsonValueKind.Array ? e.EnumerateArray() : [];
    }

    /// <summary>
    /// <c>{"errors":[{status,title,detail}]}</c> as "title: detail; ..." (also <c>error</c>/<c>message</c> bodies),
    /// else the body itself, cut short.
    /// </summary>
    public static string ErrorMessage(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            var errors = Array(root, "errors").Select(e => e.ValueKind == JsonValueKind.String
                ? e.GetString()
                : string.Join(": ", new[] { Str(e, "title"), Str(e, "detail") }.Where(s => !string.IsNullOrEmpty(s))))
                .Where(s => !string.IsNullOrEmpty(s)).ToList();
            if (errors.Count > 0)
            {
                return string.Join("; ", errors);
            }
            if ((Str(root, "message") ?? Str(root, "error") ?? Str(root, "detail")) is { } message)
            {
                return message;
            }
        }
        catch (JsonException)
        {
            // Not JSON: the body is the message.
        }
        return body.Length > 300 ? body[..300] : body;
    }
}
