using System.Text.Json;
using Atoll.Core.Batch;

namespace Atoll.Core.Tests.Batch;

public sealed class OpenAiWireTypesTests
{
    [Fact]
    public void Batch_serializes_with_openai_field_names_and_explicit_nulls()
    {
        var batch = new OpenAiBatch
        {
            Id = "batch_1",
            Endpoint = BatchEndpoints.ChatCompletions,
            InputFileId = "file-1",
            CompletionWindow = "24h",
            Status = BatchStatus.Failed,
            CreatedAt = 1_700_000_000,
            FailedAt = 1_700_000_005,
            Errors = new OpenAiBatchErrors([new BatchLineError(BatchErrorCodes.DuplicateCustomId, 3, "dup", "custom_id")]),
            RequestCounts = new OpenAiRequestCounts(10, 7, 3),
            Metadata = new Dictionary<string, string> { ["Project"] = "x" },
        };

        var root = JsonSerializer.SerializeToElement(batch, BatchJson.Options);

        Assert.Equal(
            ["id", "object", "endpoint", "errors", "input_file_id", "completion_window", "status", "output_file_id",
             "error_file_id", "created_at", "in_progress_at", "expires_at", "finalizing_at", "completed_at", "failed_at",
             "expired_at", "cancelling_at", "cancelled_at", "request_counts", "metadata"],
            root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("batch", root.GetProperty("object").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("output_file_id").ValueKind);
        Assert.Equal(1_700_000_005, root.GetProperty("failed_at").GetInt64());
        Assert.Equal("list", root.GetProperty("errors").GetProperty("object").GetString());
        var error = root.GetProperty("errors").GetProperty("data")[0];
        Assert.Equal(["code", "line", "message", "param"], error.EnumerateObject().Select(p => p.Name));
        Assert.Equal(3, error.GetProperty("line").GetInt32());
        Assert.Equal(7, root.GetProperty("request_counts").GetProperty("completed").GetInt32());
        Assert.Equal("x", root.GetProperty("metadata").GetProperty("Project").GetString());
    }

    [Fact]
    public void Batch_round_trips_through_json()
    {
        var batch = new OpenAiBatch
        {
            Id = "batch_1",
            Endpoint = BatchEndpoints.Embeddings,
            InputFileId = "file-1",
            CompletionWindow = "24h",
            Status = BatchStatus.InProgress,
            RequestCounts = new OpenAiRequestCounts(5, 1, 0),
        };

        var back = JsonSerializer.Deserialize<OpenAiBatch>(JsonSerializer.Serialize(batch, BatchJson.Options), BatchJson.Options);

        Assert.Equal(batch with { Metadata = null }, back! with { Metadata = null });
        Assert.Equal(batch.RequestCounts, back.RequestCounts);
    }

    [Fact]
    public void File_and_list_envelopes_have_openai_shapes()
    {
        var file = new OpenAiFile { Id = "file-1", Bytes = 42, CreatedAt = 1, Filename = "in.jsonl", Purpose = FilePurposes.Batch };
        var list = new OpenAiList<OpenAiFile>([file], "file-1", "file-1", HasMore: false);

        var root = JsonSerializer.SerializeToElement(list, BatchJson.Options);

        Assert.Equal(["data", "first_id", "last_id", "has_more", "object"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("list", root.GetProperty("object").GetString());
        Assert.False(root.GetProperty("has_more").GetBoolean());
        var f = root.GetProperty("data")[0];
        Assert.Equal(["id", "object", "bytes", "created_at", "filename", "purpose", "status"], f.EnumerateObject().Select(p => p.Name));
        Assert.Equal("file", f.GetProperty("object").GetString());
        Assert.Equal("processed", f.GetProperty("status").GetString());
        var deleted = JsonSerializer.SerializeToElement(new OpenAiFileDeleted("file-1"), BatchJson.Options);
        Assert.True(deleted.GetProperty("deleted").GetBoolean());
        Assert.Equal("file", deleted.GetProperty("object").GetString());
    }

    [Fact]
    public void Ids_use_openai_prefixes()
    {
        Assert.StartsWith("batch_", BatchIds.NewBatchId());
        Assert.StartsWith("file-", BatchIds.NewFileId());
        Assert.StartsWith("batch_req_", BatchIds.NewRequestId());
        Assert.NotEqual(BatchIds.NewFileId(), BatchIds.NewFileId());
    }
}
