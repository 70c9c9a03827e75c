using System.Net;
using System.Text.Json;
using Atoll.Core.Contracts;
using Atoll.Testing;

namespace Atoll.Server.Tests.Batch;

/// <summary>Cancelling: running work stops, finished results are kept, every other line gets batch_cancelled; finished batches refuse.</summary>
public sealed class BatchCancelTests
{
    [Theory]
    [MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Cancelled_batch_keeps_finished_results_and_reports_every_other_line_as_batch_cancelled(string engine)
    {
        await using var host = await BatchServer.StartAsync(engine, b => (b.ChunkLines, b.LeaseDuration) = (100, TimeSpan.FromSeconds(10)));
        var finished = await FakeWorker.JoinAsync(host, "gpu-1");
        var running = await FakeWorker.JoinAsync(host, "gpu-2");
        var id = (await host.StartBatchAsync(BatchInput.Lines(300))).GetProperty("id").GetString()!;
        await finished.RunOneChunkAsync(); // req-1..100 done
        var inFlight = await running.ClaimRequiredAsync(); // req-101..200 running
        var inFlightLines = await running.WorkAsync(inFlight);

        host.Time.Advance(TimeSpan.FromSeconds(1));
        using (var cancel = await host.CancelAsync(id))
        {
            var cancelling = await BatchServer.JsonAsync(cancel, 200);
            Assert.Equal("cancelling", cancelling.GetProperty("status").GetString());
            Assert.Equal(host.Time.GetUtcNow().ToUnixTimeSeconds(), cancelling.GetProperty("cancelling_at").GetInt64());
        }
        await host.ReconcileAsync();
        // Nothing new is handed out, and the running chunk keeps the batch in cancelling until its worker hears of it.
        Assert.Null(await finished.ClaimAsync());
        Assert.Equal("cancelling", (await host.GetBatchAsync(id)).GetProperty("status").GetString());

        Assert.Equal(LeaseState.Cancelled, (await running.HeartbeatAsync(inFlight)).Status);
        using (var late = await running.CompleteAsync(inFlight, inFlightLines.Count))
        {
            Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        }
        await host.ReconcileAsync();

        var batch = await host.GetBatchAsync(id);
        Assert.Equal("cancelled", batch.GetProperty("status").GetString());
        Assert.Equal(host.Time.GetUtcNow().ToUnixTimeSeconds(), batch.GetProperty("cancelled_at").GetInt64());
        Assert.Equal((300, 100, 200), (batch.Count("total"), batch.Count("completed"), batch.Count("failed")));
        var output = await host.ResultLinesAsync(batch, "output_file_id");
        Assert.Equal(BatchInput.CustomIds(100), output.Select(l => l.GetProperty("custom_id").GetString()));
        var errors = await host.ResultLinesAsync(batch, "error_file_id");
        Assert.Equal(BatchInput.CustomIds(300).Skip(100), errors.Select(l => l.GetProperty("custom_id").GetString()).Order(new CustomIdOrder()));
        Assert.All(errors, e => Assert.Equal("batch_cancelled", e.GetProperty("error").GetProperty("code").GetString()));

        // Cancelling again is harmless and changes nothing.
        using var again = await host.CancelAsync(id);
        Assert.Equal("cancelled", (await BatchServer.JsonAsync(again, 200)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Cancelled_batch_whose_worker_never_comes_back_finishes_once_the_lease_runs_out()
    {
        await using var host = await BatchServer.StartAsync(StoreEngines.Sqlite, b => (b.ChunkLines, b.LeaseDuration) = (5, TimeSpan.FromSeconds(10)));
        var worker = await FakeWorker.JoinAsync(host, "gpu-1");
        var id = (await host.StartBatchAsync(BatchInput.Lines(10))).GetProperty("id").GetString()!;
        await worker.ClaimRequiredAsync(); // and the worker dies
        using (await host.CancelAsync(id))
        {
        }
        await host.ReconcileAsync();
        Assert.Equal("cancelling", (await host.GetBatchAsync(id)).GetProperty("status").GetString());

        host.Time.Advance(TimeSpan.FromSeconds(11));
        await host.ReconcileAsync();

        var batch = await host.GetBatchAsync(id);
        Assert.Equal("cancelled", batch.GetProperty("status").GetString());
        var errors = await host.ResultLinesAsync(batch, "error_file_id");
        Assert.Equal(BatchInput.CustomIds(10), errors.Select(l => l.GetProperty("custom_id").GetString()).Order(new CustomIdOrder()));
        Assert.All(errors, e => Assert.Equal("batch_cancelled", e.GetProperty("error").GetProperty("code").GetString()));
        Assert.Equal(JsonValueKind.Null, batch.GetProperty("output_file_id").ValueKind);
    }

    [Theory]
    [MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Cancel_of_a_completed_or_failed_batch_answers_409_and_changes_nothing(string engine)
    {
        await using var host = await BatchServer.StartAsync(engine);
        var worker = await FakeWorker.JoinAsync(host, "gpu-1");
        var completed = (await host.StartBatchAsync(BatchInput.Lines(3))).GetProperty("id").GetString()!;
        await worker.RunOneChunkAsync();
        await host.ReconcileAsync();
        await host.ReconcileAsync();
        var failed = (await host.StartBatchAsync("not json\n")).GetProperty("id").GetString()!;
        Assert.Equal("completed", (await host.GetBatchAsync(completed)).GetProperty("status").GetString());
        Assert.Equal("failed", (await host.GetBatchAsync(failed)).GetProperty("status").GetString());

        foreach (var (id, status) in new[] { (completed, "completed"), (failed, "failed") })
        {
            using var response = await host.CancelAsync(id);
            var error = await BatchServer.OpenAiErrorAsync(response, 409);
            Assert.Contains(status, error.GetProperty("message").GetString());
            var after = await host.GetBatchAsync(id);
            Assert.Equal(status, after.GetProperty("status").GetString());
            Assert.Equal(JsonValueKind.Null, after.GetProperty("cancelling_at").ValueKind);
        }
        // The completed batch's results are still there.
        Assert.Equal(3, (await host.ResultLinesAsync(await host.GetBatchAsync(completed), "output_file_id")).Count);
    }

    [Fact]
    public async Task Input_file_of_a_running_batch_cannot_be_deleted_and_the_batch_still_ends()
    {
        await using var host = await BatchServer.StartAsync(StoreEngines.Sqlite, b => b.ChunkLines = 2);
        var worker = await FakeWorker.JoinAsync(host, "gpu-1");
        var batch = await host.StartBatchAsync(BatchInput.Lines(4));
        var id = batch.GetProperty("id").GetString()!;
        await worker.RunOneChunkAsync(); // req-1, req-2 done
        using (var admin = host.Admin())
        using (var deleted = await admin.DeleteAsync($"/v1/files/{batch.GetProperty("input_file_id").GetString()}"))
        {
            Assert.Equal(409, (int)deleted.StatusCode);
            Assert.Contains("file_in_use", await deleted.Content.ReadAsStringAsync());
        }
        using (await host.CancelAsync(id))
        {
        }

        await host.ReconcileAsync();
        await host.ReconcileAsync();

        // The finished results must not be held hostage by the missing input: the batch ends, its output kept.
        var after = await host.GetBatchAsync(id);
        Assert.Equal("cancelled", after.GetProperty("status").GetString());
        Assert.Equal(["req-1", "req-2"], (await host.ResultLinesAsync(after, "output_file_id")).Select(l => l.GetProperty("custom_id").GetString()));
    }

    /// <summary>req-2 before req-10.</summary>
    private sealed class CustomIdOrder : IComparer<string?>
    {
        public int Compare(string? x, string? y) => int.Parse(x![4..]).CompareTo(int.Parse(y![4..]));
    }
}
