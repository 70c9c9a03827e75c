using System.Text.Json;
using Atoll.Core.Batch;
using Atoll.Storage.State;

namespace Atoll.Server.Batch;

/// <summary>Maps stored rows to OpenAI's file and batch objects, and names the objects a batch uses.</summary>
internal static class BatchObjects
{
    public static string FileKey(string fileId) => $"files/{fileId}";

    /// <summary>Per lease token, so a worker that lost its lease never overwrites the new owner's result.</summary>
    public static string ResultKey(string batchId, int seq, string leaseToken) => $"batches/{batchId}/results/{seq:D6}-{leaseToken}.jsonl";

    /// <summary>Fixed ids, so a finalization that is run again (after a crash) replaces its files instead of leaking them.</summary>
    public static string OutputFileId(string batchId) => $"file-{batchId}-output";

    public static string ErrorFileId(string batchId) => $"file-{batchId}-errors";

    public static OpenAiFile ToOpenAi(FileRecord f) =>
        new() { Id = f.Id, Bytes = f.Bytes, CreatedAt = f.CreatedAt.ToUnixTimeSeconds(), Filename = f.Filename, Purpose = f.Purpose };

    public static OpenAiBatch ToOpenAi(BatchRecord b, ChunkSummary? live = null) => new()
    {
        Id = b.Id,
        Endpoint = b.Endpoint,
        Errors = b.ErrorsJson is null ? null : new OpenAiBatchErrors(JsonSerializer.Deserialize<List<BatchLineError>>(b.ErrorsJson, BatchJson.Options)!),
        InputFileId = b.InputFileId,
        CompletionWindow = b.CompletionWindow,
        Status = b.Status,
        OutputFileId = b.OutputFileId,
        ErrorFileId = b.ErrorFileId,
        CreatedAt = b.CreatedAt.ToUnixTimeSeconds(),
        InProgressAt = b.InProgressAt?.ToUnixTimeSeconds(),
        ExpiresAt = b.ExpiresAt?.ToUnixTimeSeconds(),
        FinalizingAt = b.FinalizingAt?.ToUnixTimeSeconds(),
        CompletedAt = b.CompletedAt?.ToUnixTimeSeconds(),
        FailedAt = b.FailedAt?.ToUnixTimeSeconds(),
        ExpiredAt = b.Status == BatchStatus.Expired ? b.ExpiredAt?.ToUnixTimeSeconds() : null,
        CancellingAt = b.CancellingAt?.ToUnixTimeSeconds(),
        CancelledAt = b.CancelledAt?.ToUnixTimeSeconds(),
        RequestCounts = live is null
            ? new OpenAiRequestCounts(b.Total, b.Completed, b.Failed)
            : new OpenAiRequestCounts(b.Total, live.SucceededLines, live.FailedLines),
        Metadata = b.MetadataJson is null ? null : JsonSerializer.Deserialize<Dictionary<string, string>>(b.MetadataJson),
    };
}
