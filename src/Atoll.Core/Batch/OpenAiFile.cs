using System.Text.Json.Serialization;

namespace Atoll.Core.Batch;

/// <summary>OpenAI's file object (<c>GET /v1/files/{id}</c>). <see cref="CreatedAt"/> is Unix seconds.</summary>
public sealed record OpenAiFile
{
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("object")] public string ObjectType { get; init; } = "file";
    [JsonPropertyName("bytes")] public long Bytes { get; init; }
    [JsonPropertyName("created_at")] public long CreatedAt { get; init; }
    [JsonPropertyName("filename")] public required string Filename { get; init; }

    /// <summary><c>batch</c> for inputs, <c>batch_output</c> for output and error files.</summary>
    [JsonPropertyName("purpose")] public required string Purpose { get; init; }

    [JsonPropertyName("status")] public string Status { get; init; } = "processed";
}
