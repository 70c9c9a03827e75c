using System.Net;
using System.Text;
using System.Text.Json;
using Atoll.Core.Contracts;
using Atoll.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Atoll.Server.Tests.Batch;

/// <summary>
/// The lease API driven by scripted workers with node credentials: claim, ranged read, result upload, complete;
/// lease expiry and fencing; attempts running out. Time is fake: leases expire when the test advances the clock.
/// </summary>
public sealed class LeaseApiTests
{
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(10);

    [Theory]
    [MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Worker_that_completes_every_chunk_makes_the_batch_complete_with_its_results_as_the_output(string engine)
    {
        await using var host = await BatchServer.StartAsync(engine, b => (b.ChunkLines, b.LeaseDuration) = (100, LeaseDuration));
        var worker = await FakeWorker.JoinAsync(host, "gpu-1");
        var id = (await host.StartBatchAsync(BatchInput.Lines(250))).GetProperty("id").GetString()!;
        Assert.Null(await worker.ClaimAsync("some-other-model"));

        var expected = new StringBuilder();
        var leases = new List<LeaseGrant>();
        for (var chunk = 0; chunk < 3; chunk++)
        {
            var lease = await worker.ClaimRequiredAsync();
            Assert.Equal(id, lease.BatchId);
            Assert.Equal(chunk, lease.Seq);
            Assert.Equal(1, lease.Attempt);
            Assert.Equal("/v1/chat/completions", lease.Endpoint);
            Assert.Equal(BatchInput.Model, lease.Model);
            Assert.Equal(host.Time.GetUtcNow() + LeaseDuration, lease.ExpiresAt);
            var lines = await worker.WorkAsync(lease);
            Assert.Equal(BatchInput.CustomIds(250).Skip(chunk * 100).Take(100), lines.Select(l => l.CustomId));
            foreach (var line in lines)
            {
                expected.Append(Encoding.UTF8.GetString(worker.Answer(line))).Append('\n');
            }
            using var done = await worker.CompleteAsync(lease, lines.Count);
            Assert.Equal(HttpStatusCode.NoContent, done.StatusCode);
            leases.Add(lease);
            // Running batches count finished lines from their chunks.
            Assert.Equal(Math.Min(250, (chunk + 1) * 100), (await host.GetBatchAsync(id)).Count("completed"));
        }
        Assert.Null(await worker.ClaimAsync());

        await host.ReconcileAsync(); // every chunk finished → finalizing
        Assert.Equal("finalizing", (await host.GetBatchAsync(id)).GetProperty("status").GetString());
        await host.ReconcileAsync(); // → files written, completed

        var batch = await host.GetBatchAsync(id);
        Assert.Equal("completed", batch.GetProperty("status").GetString());
        Assert.Equal((250, 250, 0), (batch.Count("total"), batch.Count("completed"), batch.Count("failed")));
        Assert.Equal(host.Time.GetUtcNow().ToUnixTimeSeconds(), batch.GetProperty("completed_at").GetInt64());
        Assert.Equal(JsonValueKind.Null, batch.GetProperty("error_file_id").ValueKind);
        var outputId = batch.GetProperty("output_file_id").GetString()!;
        Assert.Equal(expected.ToString(), await host.ContentAsync(outputId));
        using var admin = host.Admin();
        var outputFile = await BatchServer.JsonAsync(await admin.GetAsync($"/v1/files/{outputId}"), 200);
        Assert.Equal("batch_output", outputFile.GetProperty("purpose").GetString());
        Assert.Equal(Encoding.UTF8.GetByteCount(expected.ToString()), outputFile.GetProperty("bytes").GetInt64());

        // The per-chunk results now live in the output file: their objects are gone.
        var services = host.Services;
        var chunks = await services.GetRequiredService<Atoll.Storage.State.IStateStore>().Batches.ListChunksAsync(id, CancellationToken.None);
        Assert.Equal(3, chunks.Count);
        foreach (var chunk in chunks)
        {
            Assert.Null(await services.GetRequiredService<Atoll.Storage.Objects.IObjectStore>().StatAsync(chunk.ResultKey!, CancellationToken.None));
        }
    }

    [Theory]
    [MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Lease_that_expires_goes_to_another_worker_and_the_first_workers_completion_is_refused_and_discarded(string engine)
    {
        await using var host = await BatchServer.StartAsync(engine, b => (b.ChunkLines, b.LeaseDuration) = (100, LeaseDuration));
        var first = await FakeWorker.JoinAsync(host, "gpu-1");
        var second = await FakeWorker.JoinAsync(host, "gpu-2");
        var id = (await host.StartBatchAsync(BatchInput.Lines(50))).GetProperty("id").GetString()!;

        var lost = await first.ClaimRequiredAsync();
        await first.WorkAsync(lost); // result uploaded, but no heartbeat and no completion in time
        Assert.Null(await second.ClaimAsync()); // the only chunk is leased

        host.Time.Advance(LeaseDuration + TimeSpan.FromSeconds(1));
        await host.ReconcileAsync(); // the sweeper returns the chunk to the queue

        var taken = await second.ClaimRequiredAsync();
        Assert.Equal((lost.BatchId, lost.Seq), (taken.BatchId, taken.Seq));
        Assert.Equal(2, taken.Attempt);
        Assert.NotEqual(lost.LeaseToken, taken.LeaseToken);
        var lines = await second.WorkAsync(taken);

        using (var late = await first.CompleteAsync(lost, lines.Count))
        {
            Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        }
        Assert.Equal(LeaseState.Lost, (await first.HeartbeatAsync(lost)).Status);
        using (var done = await second.CompleteAsync(taken, lines.Count))
        {
            Assert.Equal(HttpStatusCode.NoContent, done.StatusCode);
        }
        using (var later = await first.CompleteAsync(lost, lines.Count))
        {
            Assert.Equal(HttpStatusCode.Conflict, later.StatusCode);
        }
        await host.ReconcileAsync();
        await host.ReconcileAsync();

        var batch = await host.GetBatchAsync(id);
        Assert.Equal("completed", batch.GetProperty("status").GetString());
        var output = await host.ResultLinesAsync(batch, "output_file_id");
        Assert.Equal(BatchInput.CustomIds(50), output.Select(l => l.GetProperty("custom_id").GetString()));
        Assert.All(output, l => Assert.StartsWith("gpu-2 answers ",
            l.GetProperty("response").GetProperty("body").GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()));
        Assert.Equal(50, batch.Count("completed"));
    }

    [Theory]
    [MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Heartbeats_keep_a_lease_past_its_duration(string engine)
    {
        await using var host = await BatchServer.StartAsync(engine, b => (b.ChunkLines, b.LeaseDuration) = (100, LeaseDuration));
        var slow = await FakeWorker.JoinAsync(host, "gpu-1");
        var other = await FakeWorker.JoinAsync(host, "gpu-2");
        await host.StartBatchAsync(BatchInput.Lines(10));
        var lease = await slow.ClaimRequiredAsync();

        for (var i = 0; i < 3; i++)
        {
            host.Time.Advance(TimeSpan.FromSeconds(7));
            var state = await slow.HeartbeatAsync(lease);
            Assert.Equal(LeaseState.Extended, state.Status);
            Assert.Equal(host.Time.GetUtcNow() + LeaseDuration, state.ExpiresAt);
            await host.ReconcileAsync();
            Assert.Null(await other.ClaimAsync());
        }

        var lines = await slow.WorkAsync(lease);
        using var done = await slow.CompleteAsync(lease, lines.Count);
        Assert.Equal(HttpStatusCode.NoContent, done.StatusCode);
    }

    [Theory]
    [MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Chunk_that_fails_its_maximum_attempts_has_its_lines_in_the_error_file_as_upstream_failed(string engine)
    {
        await using var host = await BatchServer.StartAsync(engine, b => (b.ChunkLines, b.LeaseDuration, b.MaxAttempts) = (2, LeaseDuration, 2));
        var worker = await FakeWorker.JoinAsync(host, "gpu-1");
        var id = (await host.StartBatchAsync(BatchInput.Lines(4))).GetProperty("id").GetString()!;

        // Chunk 0, attempt 1: the worker reports a failure; attempt 2: the worker vanishes and the lease runs out.
        var attempt1 = await worker.ClaimRequiredAsync();
        Assert.Equal((0, 1), (attempt1.Seq, attempt1.Attempt));
        using (var failed = await worker.FailAsync(attempt1, "model server answered 503 three times"))
        {
            Assert.Equal(HttpStatusCode.NoContent, failed.StatusCode);
        }
        var attempt2 = await worker.ClaimRequiredAsync();
        Assert.Equal((0, 2), (attempt2.Seq, attempt2.Attempt));
        host.Time.Advance(LeaseDuration + TimeSpan.FromSeconds(1));
        await host.ReconcileAsync();

        // Chunk 0 is spent; the next claim gets chunk 1, which succeeds.
        var good = await worker.ClaimRequiredAsync();
        Assert.Equal(1, good.Seq);
        var lines = await worker.WorkAsync(good);
        using (var done = await worker.CompleteAsync(good, lines.Count))
        {
            Assert.Equal(HttpStatusCode.NoContent, done.StatusCode);
        }
        Assert.Null(await worker.ClaimAsync());
        await host.ReconcileAsync();
        await host.ReconcileAsync();

        var batch = await host.GetBatchAsync(id);
        Assert.Equal("completed", batch.GetProperty("status").GetString());
        Assert.Equal((4, 2, 2), (batch.Count("total"), batch.Count("completed"), batch.Count("failed")));
        var output = await host.ResultLinesAsync(batch, "output_file_id");
        Assert.Equal(["req-3", "req-4"], output.Select(l => l.GetProperty("custom_id").GetString()));
        var errors = await host.ResultLinesAsync(batch, "error_file_id");
        Assert.Equal(["req-1", "req-2"], errors.Select(l => l.GetProperty("custom_id").GetString()));
        Assert.All(errors, e =>
        {
            Assert.Equal("upstream_failed", e.GetProperty("error").GetProperty("code").GetString());
            Assert.Contains("2 attempt", e.GetProperty("error").GetProperty("message").GetString());
            Assert.Equal(JsonValueKind.Null, e.GetProperty("response").ValueKind);
        });
    }

    [Fact]
    public async Task Lease_calls_need_a_node_credential()
    {
        await using var host = await BatchServer.StartAsync(StoreEngines.Sqlite);
        await host.StartBatchAsync(BatchInput.Lines(2));

        // Neither an anonymous caller nor an API client (the admin token) may take batch work.
        foreach (var client in new[] { host.Client(), host.Admin() })
        {
            using (client)
            {
                using var response = await client.PostAsync("/api/v1/agent/leases",
                    new StringContent("{\"models\":[\"llama\"],\"waitSeconds\":0}", Encoding.UTF8, "application/json"));
                Assert.True(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"answered {(int)response.StatusCode}");
            }
        }
        Assert.NotNull(await (await FakeWorker.JoinAsync(host, "gpu-1")).ClaimAsync());
    }
}
