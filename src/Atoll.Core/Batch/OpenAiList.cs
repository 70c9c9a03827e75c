using System.Text.Json.Serialization;

namespace Atoll.Core.Batch;

/// <summary>OpenAI's list envelope: <c>{"object":"list","data":[...],"first_id","last_id","has_more"}</c>.</summary>
public sealed record OpenAiList<T>(
    [property: JsonPropertyName("data")] IReadOnlyList<T> Data,
    [property: JsonPropertyName("first_id")] string? FirstId,
    [property: JsonPropertyName("last_id")] string? LastId,
    [property: JsonPropertyName("has_more")] bool HasMore)
{
    [JsonPropertyName("object")] public string ObjectType { get; init; } = "list";
}
