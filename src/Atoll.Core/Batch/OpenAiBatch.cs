using System.Text.Json.Serialization;

namespace Atoll.Core.Batch;

/// <summary>OpenAI's batch object (<c>GET /v1/batches/{id}</c>). Timestamps are Unix seconds.</summary>
public sealed record OpenAiBatch
{
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("object")] public string ObjectType { get; init; } = "batch";
    [JsonPropertyName("endpoint")] public required string Endpoint { get; init; }
    [JsonPropertyName("errors")] public OpenAiBatchErrors? Errors { get; init; }
    [JsonPropertyName("input_file_id")] public required string InputFileId { get; init; }
    [JsonPropertyName("completion_window")] public required string CompletionWindow { get; init; }
    [JsonPropertyName("status")] public required string Status { get; init; }
    [JsonPropertyName("output_file_id")] public string? OutputFileId { get; init; }
    [JsonPropertyName("error_file_id")] public string? ErrorFileId { get; init; }
    [JsonPropertyName("created_at")] public long CreatedAt { get; init; }
    [JsonPropertyName("in_progress_at")] public long? InProgressAt { get; init; }
    [JsonPropertyName("expires_at")] public long? ExpiresAt { get; init; }
    [JsonPropertyName("finalizing_at")] public long? FinalizingAt { get; init; }
    [JsonPropertyName("completed_at")] public long? CompletedAt { get; init; }
    [JsonPropertyName("failed_at")] public long? FailedAt { get; init; }
    [JsonPropertyName("expired_at")] public long? ExpiredAt { get; init; }
    [JsonPropertyName("cancelling_at")] public long? CancellingAt { get; init; }
    [JsonPropertyName("cancelled_at")] public long? CancelledAt { get; init; }
    [JsonPropertyName("request_counts")] public OpenAiRequestCounts RequestCounts { get; init; } = new(0, 0, 0);
    [JsonPropertyName("metadata")] public IReadOnlyDictionary<string, string>? Metadata { get; init; }
}
