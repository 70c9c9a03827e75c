using System.Net;
using Atoll.Core.Contracts;
using Atoll.Testing;

namespace Atoll.Server.Tests.Batch;

/// <summary>A batch still running at expires_at ends expired: finished results kept, the rest batch_expired.</summary>
public sealed class BatchExpiryTests
{
    [Theory]
    [MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Batch_past_its_completion_window_expires_with_finished_results_kept_and_the_rest_batch_expired(string engine)
    {
        await using var host = await BatchServer.StartAsync(engine, b => (b.ChunkLines, b.LeaseDuration) = (2, TimeSpan.FromSeconds(10)));
        var worker = await FakeWorker.JoinAsync(host, "gpu-1");
        var id = (await host.StartBatchAsync(BatchInput.Lines(6), window: "1h")).GetProperty("id").GetString()!;
        await worker.RunOneChunkAsync(); // req-1, req-2 done

        host.Time.Advance(TimeSpan.FromMinutes(59) + TimeSpan.FromSeconds(55));
        var running = await worker.ClaimRequiredAsync(); // req-3, req-4 still running at expiry, lease good until 1h00m05s
        await host.ReconcileAsync();
        Assert.Equal("in_progress", (await host.GetBatchAsync(id)).GetProperty("status").GetString());

        host.Time.Advance(TimeSpan.FromSeconds(6));
        await host.ReconcileAsync();
        Assert.Equal("finalizing", (await host.GetBatchAsync(id)).GetProperty("status").GetString());
        // Running work is told to stop at its next heartbeat; nothing new starts.
        Assert.Equal(LeaseState.Cancelled, (await worker.HeartbeatAsync(running)).Status);
        Assert.Null(await worker.ClaimAsync());
        await host.ReconcileAsync();

        var batch = await host.GetBatchAsync(id);
        Assert.Equal("expired", batch.GetProperty("status").GetString());
        Assert.Equal(host.Time.GetUtcNow().ToUnixTimeSeconds(), batch.GetProperty("expired_at").GetInt64());
        Assert.Equal((6, 2, 4), (batch.Count("total"), batch.Count("completed"), batch.Count("failed")));
        var output = await host.ResultLinesAsync(batch, "output_file_id");
        Assert.Equal(["req-1", "req-2"], output.Select(l => l.GetProperty("custom_id").GetString()));
        var errors = await host.ResultLinesAsync(batch, "error_file_id");
        Assert.Equal(["req-3", "req-4", "req-5", "req-6"], errors.Select(l => l.GetProperty("custom_id").GetString()).Order());
        Assert.All(errors, e => Assert.Equal("batch_expired", e.GetProperty("error").GetProperty("code").GetString()));
        using var cancel = await host.CancelAsync(id);
        Assert.Equal(HttpStatusCode.Conflict, cancel.StatusCode);
    }
}
