using System.Text.Json.Serialization;

namespace Atoll.Core.Batch;

/// <summary>A batch's <c>errors</c>: <c>{"object":"list","data":[{code,line,message,param}]}</c>.</summary>
public sealed record OpenAiBatchErrors(
    [property: JsonPropertyName("data")] IReadOnlyList<BatchLineError> Data)
{
    [JsonPropertyName("object")] public string ObjectType { get; init; } = "list";
}
