using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Atoll.Sim;

/// <summary><c>POST /v1/embeddings</c>: one deterministic unit vector per input, after a prefill-sized delay.</summary>
internal sealed class EmbeddingEndpoints(SimRuntime sim)
{
    private const int MaxDimensions = 65536;

    public Task EmbedAsync(HttpContext ctx) =>
        OpenAiPipeline.RunAsync(ctx, sim, (body, _, ct) => EmbedAsync(ctx, body, ct));

    private async Task<string> EmbedAsync(HttpContext ctx, JsonElement body, CancellationToken ct)
    {
        var inputs = ReadInputs(body);
        RequestBody.CheckModel(body, sim.Options.Model);
        var dimensions = RequestBody.OptionalPositiveInt(body, "dimensions") ?? sim.Options.EmbeddingDimensions;
        if (dimensions > MaxDimensions)
        {
            throw OpenAiException.Invalid($"Invalid 'dimensions': expected at most {MaxDimensions}.", "dimensions", "invalid_value");
        }
        var base64 = RequestBody.OptionalString(body, "encoding_format") switch
        {
            null or "float" => false,
            "base64" => true,
            var other => throw OpenAiException.Invalid($"Invalid 'encoding_format' {other}: expected float or base64.", "encoding_format", "invalid_value"),
        };
        var failure = sim.PickFailure();
        if (await FailureInjection.ApplyAsync(failure, ctx, sim, ct).ConfigureAwait(false))
        {
            return OpenAiPipeline.Aborted;
        }

        var tokens = inputs.Sum(i => i.Tokens);
        await sim.DelayAsync(sim.Jittered(sim.Options.PrefillPerToken * tokens), ct).ConfigureAwait(false);
        var response = JsonResponse.Serialize(w =>
        {
            w.WriteStartObject();
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            for (var i = 0; i < inputs.Count; i++)
            {
                var vector = TextGenerator.Embedding(sim.Options.Model, inputs[i].Text, dimensions);
                w.WriteStartObject();
                w.WriteString("object", "embedding");
                w.WriteNumber("index", i);
                if (base64)
                {
                    // OpenAI's base64 form: the little-endian float32 bytes.
                    w.WriteBase64String("embedding", MemoryMarshal.AsBytes(vector.AsSpan()));
                }
                else
                {
                    w.WriteStartArray("embedding");
                    foreach (var x in vector)
                    {
                        w.WriteNumberValue(x);
                    }
                    w.WriteEndArray();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteString("model", sim.Options.Model);
            w.WriteStartObject("usage");
            w.WriteNumber("prompt_tokens", tokens);
            w.WriteNumber("total_tokens", tokens);
            w.WriteEndObject();
            w.WriteEndObject();
        });
        if (failure == FailureInjection.Midstream)
        {
            await FailureInjection.WriteHalfAndAbortAsync(ctx, response, ct).ConfigureAwait(false);
            return OpenAiPipeline.Aborted;
        }
        await JsonResponse.WriteAsync(ctx, StatusCodes.Status200OK, response, ct).ConfigureAwait(false);
        return OpenAiPipeline.Ok;
    }

    /// <summary>A string, an array of strings, a list of token ids, or an array of such lists.</summary>
    private static List<(string Text, int Tokens)> ReadInputs(JsonElement body)
    {
        switch (RequestBody.Property(body, "input"))
        {
            case null:
                throw OpenAiException.Missing("input");
            case { ValueKind: JsonValueKind.String } s:
                return [Text(s.GetString()!)];
            case { ValueKind: JsonValueKind.Array } array when array.GetArrayLength() > 0:
                if (array.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number))
                {
                    return [TokenIds(array)];
                }
                var inputs = new List<(string, int)>();
                foreach (var item in array.EnumerateArray())
                {
                    inputs.Add(item.ValueKind switch
                    {
                        JsonValueKind.String => Text(item.GetString()!),
                        JsonValueKind.Array when item.GetArrayLength() > 0 && item.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number) => TokenIds(item),
                        _ => throw OpenAiException.WrongType("input", "a string, an array of strings, or arrays of token ids"),
                    });
                }
                return inputs;
            default:
                throw OpenAiException.WrongType("input", "a non-empty string or array");
        }

        static (string, int) Text(string text) => (text, TextGenerator.CountTokens(text.Length));

        static (string, int) TokenIds(JsonElement ids) => (ids.GetRawText(), ids.GetArrayLength());
    }
}
