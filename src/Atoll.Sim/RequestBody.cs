using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Atoll.Sim;

/// <summary>Reads an OpenAI request body (bounded) and its common fields, turning every problem into an <see cref="OpenAiException"/>.</summary>
internal static class RequestBody
{
    public static async Task<JsonDocument> ReadAsync(HttpContext ctx, long limit, CancellationToken ct)
    {
        if (ctx.Request.ContentLength > limit)
        {
            throw OpenAiException.TooLarge(limit);
        }
        var buffer = new ArrayBufferWriter<byte>(4096);
        while (true)
        {
            var read = await ctx.Request.Body.ReadAsync(buffer.GetMemory(8192), ct).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }
            buffer.Advance(read);
            if (buffer.WrittenCount > limit)
            {
                throw OpenAiException.TooLarge(limit);
            }
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(buffer.WrittenMemory);
        }
        catch (JsonException e)
        {
            throw OpenAiException.Invalid(
                $"We could not parse the JSON body of your request: {e.Message} (the body must be a JSON object).", null, "invalid_json");
        }
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw OpenAiException.Invalid("The request body must be a JSON object.", null, "invalid_json");
        }
        return document;
    }

    /// <summary>The request must name the served model, or no model at all (as vLLM allows).</summary>
    public static void CheckModel(JsonElement body, string served)
    {
        var model = OptionalString(body, "model");
        if (model is not null && model != served)
        {
            throw OpenAiException.ModelNotFound(model);
        }
    }

    public static string? OptionalString(JsonElement body, string name) =>
        Property(body, name) switch
        {
            null => null,
            { ValueKind: JsonValueKind.String } p => p.GetString(),
            _ => throw OpenAiException.WrongType(name, "a string"),
        };

    public static bool OptionalBool(JsonElement body, string name) =>
        Property(body, name) switch
        {
            null => false,
            { ValueKind: JsonValueKind.True } => true,
            { ValueKind: JsonValueKind.False } => false,
            _ => throw OpenAiException.WrongType(name, "a boolean"),
        };

    public static int? OptionalPositiveInt(JsonElement body, string name) =>
        Property(body, name) switch
        {
            null => null,
            { ValueKind: JsonValueKind.Number } p when p.TryGetInt32(out var n) && n >= 1 => n,
            _ => throw OpenAiException.Invalid($"Invalid '{name}': expected an integer of 1 or more.", name, "invalid_value"),
        };

    /// <summary>The property, or null when it is absent or JSON null.</summary>
    public static JsonElement? Property(JsonElement body, string name) =>
        body.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;
}
