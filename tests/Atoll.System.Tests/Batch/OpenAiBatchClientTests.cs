// The SDK marks its Batch client as for evaluation (OPENAI001); it is the official client of this API all the same.
#pragma warning disable OPENAI001

using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using OpenAI;
using OpenAI.Batch;
using OpenAI.Files;

namespace Atoll.System.Tests.Batch;

/// <summary>The official OpenAI .NET SDK's Files and Batches calls work end to end against a server with 2 nodes.</summary>
[Collection(BatchSystemCollection.Name)]
public sealed class OpenAiBatchClientTests
{
    private static readonly TimeSpan BatchTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Official_client_uploads_runs_lists_downloads_cancels_and_deletes()
    {
        using var dir = new TempDirectory("batch-sdk");
        await using var fleet = await BatchFleet.StartAsync(dir, nodes: 2, ["--ttft", "5", "--itl", "1"], []);
        var client = new OpenAIClient(new ApiKeyCredential(fleet.AdminToken), new OpenAIClientOptions
        {
            Endpoint = new Uri(fleet.Url + "/v1"),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = TimeSpan.FromSeconds(30),
        });
        var files = client.GetOpenAIFileClient();
        var batches = client.GetBatchClient();

        // Files: upload with purpose batch, get, list.
        var (input, bodies) = BatchFleet.Input(300, maxTokens: 4);
        OpenAIFile file = await files.UploadFileAsync(BinaryData.FromBytes(input), "requests.jsonl", FileUploadPurpose.Batch);
        Assert.StartsWith("file-", file.Id);
        Assert.Equal(FilePurpose.Batch, file.Purpose);
        Assert.Equal(input.Length, file.SizeInBytesLong);
        Assert.Equal("requests.jsonl", file.Filename);
        OpenAIFile fetched = await files.GetFileAsync(file.Id);
        Assert.Equal((file.Id, file.SizeInBytesLong, file.CreatedAt), (fetched.Id, fetched.SizeInBytesLong, fetched.CreatedAt));
        OpenAIFileCollection listed = await files.GetFilesAsync(FilePurpose.Batch);
        Assert.Contains(listed, f => f.Id == file.Id);

        // Batches: create, wait with the SDK's own polling, read the outcome.
        var run = await batches.CreateBatchAsync(Json(new
        {
            input_file_id = file.Id,
            endpoint = "/v1/chat/completions",
            completion_window = "24h",
            metadata = new Dictionary<string, string> { ["suite"] = "sdk" },
        }), waitUntilCompleted: false);
        Assert.StartsWith("batch_", run.BatchId);
        using (var wait = new CancellationTokenSource(BatchTimeout))
        {
            await run.WaitForCompletionAsync(wait.Token);
        }
        var done = await ReadAsync(await run.GetBatchAsync(null));
        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.Equal(300, done.GetProperty("request_counts").GetProperty("completed").GetInt32());
        Assert.Equal("sdk", done.GetProperty("metadata").GetProperty("suite").GetString());
        var retrieved = await ReadAsync(await batches.GetBatchAsync(run.BatchId, new RequestOptions()));
        Assert.Equal(done.GetProperty("output_file_id").GetString(), retrieved.GetProperty("output_file_id").GetString());

        BinaryData output = await files.DownloadFileAsync(done.GetProperty("output_file_id").GetString()!);
        var lines = Lines(output);
        Assert.Equal(bodies.Keys.Order(), lines.Select(l => l.GetProperty("custom_id").GetString()!).Order());
        Assert.All(lines, l => Assert.Equal(200, l.GetProperty("response").GetProperty("status_code").GetInt32()));

        // The typed list call pages through batches and reads them.
        var jobs = new List<BatchJob>();
        await foreach (var job in batches.GetBatchesAsync(new BatchCollectionOptions { PageSizeLimit = 1 }))
        {
            jobs.Add(job);
        }
        var listedJob = Assert.Single(jobs, j => j.Id == run.BatchId);
        Assert.Equal(file.Id, listedJob.InputFileId);
        Assert.Equal(done.GetProperty("output_file_id").GetString(), listedJob.OutputFileId);
        Assert.NotNull(listedJob.CompletedAt);

        // A finished batch cannot be cancelled: the SDK sees a 409.
        var refused = await Assert.ThrowsAsync<ClientResultException>(() => run.CancelAsync(null));
        Assert.Equal(409, refused.Status);

        // Cancel a running batch: finished lines are kept, the rest come back as batch_cancelled.
        var (bigInput, bigBodies) = BatchFleet.Input(3000, maxTokens: 16);
        OpenAIFile big = await files.UploadFileAsync(BinaryData.FromBytes(bigInput), "big.jsonl", FileUploadPurpose.Batch);
        var cancelled = await batches.CreateBatchAsync(Json(new { input_file_id = big.Id, endpoint = "/v1/chat/completions", completion_window = "24h" }),
            waitUntilCompleted: false);
        await fleet.WaitForBatchAsync(cancelled.BatchId, b => b.GetProperty("request_counts").GetProperty("completed").GetInt32() > 0,
            "has some lines done", BatchTimeout);
        var cancelling = await ReadAsync(await cancelled.CancelAsync(null));
        Assert.Equal("cancelling", cancelling.GetProperty("status").GetString());
        using (var wait = new CancellationTokenSource(BatchTimeout))
        {
            await cancelled.WaitForCompletionAsync(wait.Token);
        }
        var end = await ReadAsync(await cancelled.GetBatchAsync(null));
        Assert.Equal("cancelled", end.GetProperty("status").GetString());
        var kept = end.GetProperty("output_file_id").GetString() is { } keptId ? Lines(await files.DownloadFileAsync(keptId)) : [];
        var dropped = Lines(await files.DownloadFileAsync(end.GetProperty("error_file_id").GetString()!));
        Assert.NotEmpty(kept);
        Assert.NotEmpty(dropped);
        Assert.All(dropped, l => Assert.Equal("batch_cancelled", l.GetProperty("error").GetProperty("code").GetString()));
        Assert.Equal(bigBodies.Keys.Order(), kept.Concat(dropped).Select(l => l.GetProperty("custom_id").GetString()!).Order());
        Assert.Equal(kept.Count, end.GetProperty("request_counts").GetProperty("completed").GetInt32());
        Assert.Equal(dropped.Count, end.GetProperty("request_counts").GetProperty("failed").GetInt32());

        // Delete: gone for the SDK too.
        FileDeletionResult deletion = await files.DeleteFileAsync(file.Id);
        Assert.True(deletion.Deleted);
        var missing = await Assert.ThrowsAsync<ClientResultException>(() => files.GetFileAsync(file.Id));
        Assert.Equal(404, missing.Status);
    }

    private static BinaryContent Json(object body) => BinaryContent.Create(BinaryData.FromObjectAsJson(body));

    private static async Task<JsonElement> ReadAsync(ClientResult result)
    {
        using var doc = await JsonDocument.ParseAsync(result.GetRawResponse().ContentStream!);
        return doc.RootElement.Clone();
    }

    private static List<JsonElement> Lines(BinaryData jsonl) =>
        [.. jsonl.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
}
