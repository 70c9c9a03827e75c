using System.Text.Json;

using static Atoll.Providers.Http.LenientJson;

namespace Atoll.Providers.VoltagePark;

/// <summary>Lenient field readers: Voltage Park's shapes come from a third-party SDK, so numbers may arrive as strings.</summary>
internal static class VoltageParkJson
{
    /// <summary>The human part of an error body: <c>detail</c>, <c>message</c>, <c>error</c> or <c>errors</c>; else the body itself.</summary>
    public static string ErrorMessage(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            foreach (var key in new[] { "detail", "message", "error", "errors", "non_field_errors" })
            {
                if (Prop(root, key) is { } v)
                {
                    return v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText();
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's HTML page): the body is the message.
        }
        return body.Length > 300 ? body[..300] : body;
    }
}
