using System.Text.Json.Serialization;

namespace Atoll.Core.Batch;

/// <summary>The answer to <c>DELETE /v1/files/{id}</c>.</summary>
public sealed record OpenAiFileDeleted([property: JsonPropertyName("id")] string Id)
{
    [JsonPropertyName("object")] public string ObjectType { get; init; } = "file";
    [JsonPropertyName("deleted")] public bool Deleted { get; init; } = true;
}
