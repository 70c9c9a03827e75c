using System.Text.Json.Serialization;

namespace Atoll.Core.Batch;

/// <summary>A batch's <c>request_counts</c>.</summary>
public sealed record OpenAiRequestCounts(
    [property: JsonPropertyName("total")] int Total,
    [property: JsonPropertyName("completed")] int Completed,
    [property: JsonPropertyName("failed")] int Failed);
