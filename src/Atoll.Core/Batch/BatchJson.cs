using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Atoll.Core.Batch;

/// <summary>
/// Serializer options for the OpenAI wire types: snake_case names, nulls written (OpenAI sends
/// <c>"output_file_id": null</c>), non-ASCII text unescaped. The types also carry explicit names, so other options
/// cannot change their shape.
/// </summary>
public static class BatchJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DictionaryKeyPolicy = null,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        };
        options.MakeReadOnly();
        return options;
    }
}
