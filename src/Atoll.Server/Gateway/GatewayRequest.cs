using System.Text;
using System.Text.Json;

namespace Atoll.Server.Gateway;

/// <summary>
/// What the gateway reads from an OpenAI request body to route it: the model, whether it streams, and the prompt
/// text whose prefix drives cache affinity. The body itself is forwarded untouched.
/// </summary>
internal sealed record GatewayRequest(string Model, bool Stream, string Prompt, int PromptChars)
{
    /// <summary>Parses <paramref name="body"/> for <paramref name="kind"/>; on bad input returns the OpenAI-style complaint.</summary>
    public static (GatewayRequest? Request, string? Error, string? Param) Parse(ReadOnlyMemory<byte> body, GatewayRoute kind)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            return (null, $"We could not parse the JSON body of your request: {e.Message.Split(" Path:")[0]}", null);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, "The request body must be a JSON object.", null);
            }
            if (!root.TryGetProperty("model", out var modelElement) || modelElement.ValueKind != JsonValueKind.String
                || string.IsNullOrWhiteSpace(modelElement.GetString()))
            {
                return (null, "you must provide a model parameter", "model");
            }
            var stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
            var field = kind switch
            {
                GatewayRoute.ChatCompletions => "messages",
                GatewayRoute.Completions => "prompt",
                _ => "input",
            };
            if (!root.TryGetProperty(field, out var content) || content.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined
                || (kind == GatewayRoute.ChatCompletions && (content.ValueKind != JsonValueKind.Array || content.GetArrayLength() == 0)))
            {
                return (null, $"'{field}' is a required property" + (kind == GatewayRoute.ChatCompletions ? " and must be a non-empty array" : ""), field);
            }
            var prompt = new StringBuilder();
            AppendText(content, prompt);
            return (new GatewayRequest(modelElement.GetString()!, stream, prompt.ToString(), prompt.Length), null, null);
        }
    }

    private static void AppendText(JsonElement element, StringBuilder into)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                into.Append(element.GetString()).Append('\n');
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    AppendText(item, into);
                }
                break;
            case JsonValueKind.Object:
                // Chat messages: role then content (string or parts with "text").
                if (element.TryGetProperty("role", out var role) && role.ValueKind == JsonValueKind.String)
                {
                    into.Append(role.GetString()).Append(": ");
                }
                if (element.TryGetProperty("content", out var c))
                {
                    AppendText(c, into);
                }
                else if (element.TryGetProperty("text", out var t))
                {
                    AppendText(t, into);
                }
                break;
        }
    }
}
