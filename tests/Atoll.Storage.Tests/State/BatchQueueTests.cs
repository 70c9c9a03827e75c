using System.Collections.Concurrent;
using Atoll.Storage.State;
using Atoll.Testing;

namespace Atoll.Storage.Tests.State;

public sealed class BatchQueueTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);
    private static readonly DateTimeOffset T0 = StoreSamples.Start;

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Files_are_listed_newest_first_with_paging_and_purpose_filter(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();
        for (var i = 0; i < 5; i++)
        {
            await store.Batches.AddFileAsync(new FileRecord($"file-{i}", $"in{i}.jsonl", i == 4 ? "batch_output" : "batch", 100 + i, $"files/file-{i}", T0.AddSeconds(i)), default);
        }
        var page1 = await store.Batches.ListFilesAsync("batch", null, 2, default);
        Assert.Equal(["file-3", "file-2"], page1.Select(f => f.Id));
        var page2 = await store.Batches.ListFilesAsync("batch", page1[^1].Id, 10, default);
        Assert.Equal(["file-1", "file-0"], page2.Select(f => f.Id));
        Assert.Equal(5, (await store.Batches.ListFilesAsync(null, null, 10, default)).Count);
        Assert.Equal(103, (await store.Batches.GetFileAsync("file-3", default))!.Bytes);
        Assert.True(await store.Batches.DeleteFileAsync("file-3", default));
        Assert.Null(await store.Batches.GetFileAsync("file-3", default));
    }

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Many_concurrent_claimers_never_get_the_same_chunk(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();
        await StartBatchAsync(store, "batch-a", chunks: 60);

        var claimed = new ConcurrentBag<(string, int)>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 12), new ParallelOptions { MaxDegreeOfParallelism = 12 }, async (worker, ct) =>
        {
            while (await store.Batches.ClaimAsync($"node-{worker}", ["llama"], T0, Lease, ct) is { } lease)
            {
                claimed.Add((lease.BatchId, lease.Seq));
            }
        });
        Assert.Equal(60, claimed.Count);
        Assert.Equal(60, claimed.Distinct().Count());
        var summary = await store.Batches.SummarizeAsync("batch-a", default);
        Assert.Equal((0, 60), (summary.Available, summary.Leased));
    }

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Claim_serves_only_in_progress_batches_of_the_workers_models_oldest_first(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();
        await StartBatchAsync(store, "old", chunks: 1, createdAt: T0);
        await StartBatchAsync(store, "new", chunks: 1, createdAt: T0.AddMinutes(1));
        await StartBatchAsync(store, "other-model", chunks: 1, model: "mistral");

        Assert.Null(await store.Batches.ClaimAsync("n", ["qwen"], T0, Lease, default));
        var lease = await store.Batches.ClaimAsync("n", ["llama"], T0, Lease, default);
        Assert.Equal(("old", 0, 1, "files/input-old", "/v1/chat/completions", "llama"),
            (lease!.BatchId, lease.Seq, lease.Attempt, lease.InputObjectKey, lease.Endpoint, lease.Model));
        Assert.Equal((0L, 1000L, 1, 128), (lease.StartOffset, lease.EndOffset, lease.FirstLine, lease.LineCount));

        var batch = (await store.Batches.GetBatchAsync("new", default))!;
        Assert.True(await store.Batches.UpdateBatchAsync(batch with { Status = "cancelling" }, "in_progress", default));
        Assert.False(await store.Batches.UpdateBatchAsync(batch with { Status = "cancelled" }, "in_progress", default));
        Assert.Null(await store.Batches.ClaimAsync("n", ["llama"], T0, Lease, default));
        Assert.Equal("other-model", (await store.Batches.ClaimAsync("n", ["llama", "mistral"], T0, Lease, default))!.BatchId);
    }

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Expired_lease_returns_the_chunk_and_the_old_worker_cannot_complete_it(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();
        await StartBatchAsync(store, "b", chunks: 1);
        var first = (await store.Batches.ClaimAsync("spot-1", ["llama"], T0, Lease, default))!;

        Assert.Equal(LeaseStatus.Extended, await store.Batches.HeartbeatAsync("b", 0, first.LeaseToken, T0.AddSeconds(30), Lease, default));
        Assert.Equal(0, await store.Batches.SweepExpiredAsync(T0.AddSeconds(89), 5, default)); // extended to 90 s
        Assert.Equal(1, await store.Batches.SweepExpiredAsync(T0.AddSeconds(91), 5, default));

        var second = (await store.Batches.ClaimAsync("spot-2", ["llama"], T0.AddSeconds(92), Lease, default))!;
        Assert.Equal(2, second.Attempt);
        Assert.NotEqual(first.LeaseToken, second.LeaseToken);
        Assert.Equal(LeaseStatus.Lost, await store.Batches.HeartbeatAsync("b", 0, first.LeaseToken, T0.AddSeconds(93), Lease, default));
        Assert.False(await store.Batches.CompleteAsync("b", 0, first.LeaseToken, "stale", 128, 0, default));
        Assert.True(await store.Batches.CompleteAsync("b", 0, second.LeaseToken, "results/b/0.2", 120, 8, default));
        Assert.False(await store.Batches.CompleteAsync("b", 0, second.LeaseToken, "again", 0, 0, default));

        var chunk = Assert.Single(await store.Batches.ListChunksAsync("b", default));
        Assert.Equal((ChunkStates.Done, "results/b/0.2", 120, 8, "spot-2"), (chunk.State, chunk.ResultKey, chunk.Succeeded, chunk.Failed, chunk.WorkerNode));
        var summary = await store.Batches.SummarizeAsync("b", default);
        Assert.True(summary.AllFinished);
        Assert.Equal((1, 120, 8), (summary.Done, summary.SucceededLines, summary.FailedLines));
    }

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task A_chunk_fails_for_good_after_its_maximum_attempts(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();
        await StartBatchAsync(store, "b", chunks: 1);
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var lease = (await store.Batches.ClaimAsync("n", ["llama"], T0, Lease, default))!;
            Assert.Equal(attempt, lease.Attempt);
            Assert.True(await store.Batches.FailAttemptAsync("b", 0, lease.LeaseToken, $"model server down ({attempt})", 3, default));
        }
        Assert.Null(await store.Batches.ClaimAsync("n", ["llama"], T0, Lease, default));
        var chunk = Assert.Single(await store.Batches.ListChunksAsync("b", default));
        Assert.Equal((ChunkStates.Failed, "model server down (3)"), (chunk.State, chunk.LastError));
    }

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Cancelling_tells_lease_holders_and_withdraws_what_was_not_started(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();
        await StartBatchAsync(store, "b", chunks: 3);
        var lease = (await store.Batches.ClaimAsync("n", ["llama"], T0, Lease, default))!;
        var batch = (await store.Batches.GetBatchAsync("b", default))!;
        Assert.True(await store.Batches.UpdateBatchAsync(batch with { Status = "cancelling", CancellingAt = T0 }, "in_progress", default));

        Assert.Equal(LeaseStatus.Cancelled, await store.Batches.HeartbeatAsync("b", 0, lease.LeaseToken, T0, Lease, default));
        Assert.Equal(2, await store.Batches.WithdrawAvailableAsync("b", "batch_cancelled", default));
        var summary = await store.Batches.SummarizeAsync("b", default);
        Assert.Equal((0, 1, 2), (summary.Available, summary.Leased, summary.Failed));
        Assert.Equal(T0, (await store.Batches.GetBatchAsync("b", default))!.CancellingAt);
    }

    private static async Task StartBatchAsync(IStateStore store, string id, int chunks, string model = "llama", DateTimeOffset? createdAt = null)
    {
        var at = createdAt ?? T0.AddMinutes(2);
        await store.Batches.AddFileAsync(new FileRecord($"input-{id}", "in.jsonl", "batch", chunks * 1000, $"files/input-{id}", at), default);
        var batch = new BatchRecord(id, "/v1/chat/completions", null, $"input-{id}", "24h", "validating", null, null, null, null, 0, 0, 0, at);
        await store.Batches.AddBatchAsync(batch, default);
        var rows = Enumerable.Range(0, chunks)
            .Select(i => new ChunkRecord(id, i, i * 1000L, (i + 1) * 1000L, (i * 128) + 1, 128, ChunkStates.Available, 0, null, null, null, null, 0, 0, null))
            .ToList();
        Assert.True(await store.Batches.StartBatchAsync(batch with { Status = "in_progress", Model = model, Total = chunks * 128, InProgressAt = at }, rows, default));
        Assert.False(await store.Batches.StartBatchAsync(batch with { Status = "in_progress" }, rows, default));
    }
}
