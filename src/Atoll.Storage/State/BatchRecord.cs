namespace Atoll.Storage.State;

/// <summary>A batch row: the OpenAI batch object's fields plus the model it runs on. JSON fields are stored as text.</summary>
public sealed record BatchRecord(
    string Id,
    string Endpoint,
    string? Model,
    string InputFileId,
    string CompletionWindow,
    string Status,
    string? OutputFileId,
    string? ErrorFileId,
    string? ErrorsJson,
    string? MetadataJson,
    int Total,
    int Completed,
    int Failed,
    DateTimeOffset CreatedAt,
    DateTimeOffset? InProgressAt = null,
    DateTimeOffset? ExpiresAt = null,
    DateTimeOffset? FinalizingAt = null,
    DateTimeOffset? CompletedAt = null,
    DateTimeOffset? FailedAt = null,
    DateTimeOffset? ExpiredAt = null,
    DateTimeOffset? CancellingAt = null,
    DateTimeOffset? CancelledAt = null);
