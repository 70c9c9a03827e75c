using Atoll.Core.Batch;
using Atoll.Storage.State;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atoll.Server.Batch;

/// <summary>
/// Moves batches along: validates new ones, returns expired leases to the queue, withdraws the unstarted work of
/// cancelled or expired batches, and finalizes a batch once none of its chunks is running. Each step re-reads
/// and writes conditionally on the status it saw, so it is safe on several servers and after a crash.
/// </summary>
internal sealed class BatchReconciler(
    IStateStore store, BatchValidationStep validation, BatchFinalizer finalizer, WorkSignal work, IOptions<ServerOptions> options,
    TimeProvider time, ILogger<BatchReconciler> logger) : BackgroundService
{
    private static readonly string[] Active = [BatchStatus.Validating, BatchStatus.InProgress, BatchStatus.Cancelling, BatchStatus.Finalizing];

    public async Task ReconcileOnceAsync(CancellationToken ct)
    {
        var settings = options.Value.Batch;
        if (await store.Batches.SweepExpiredAsync(time.GetUtcNow(), settings.MaxAttempts, ct).ConfigureAwait(false) > 0)
        {
            work.Pulse();
        }
        foreach (var batch in await store.Batches.ListBatchesInAsync(Active, ct).ConfigureAwait(false))
        {
            try
            {
                await StepAsync(batch, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Batch {Batch} ({Status}) could not advance; retrying", batch.Id, batch.Status);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Batch.ReconcileInterval, time);
        do
        {
            try
            {
                await ReconcileOnceAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning("Batch reconcile pass failed: {Error}", e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private async Task StepAsync(BatchRecord batch, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        switch (batch.Status)
        {
            case BatchStatus.Validating:
                await validation.RunAsync(batch, ct).ConfigureAwait(false);
                return;
            case BatchStatus.InProgress when batch.ExpiresAt <= now
                && !(await store.Batches.SummarizeAsync(batch.Id, ct).ConfigureAwait(false)).AllFinished:
                // Expiry: nothing new starts; running chunks stop at their next heartbeat; then finalize as expired.
                await store.Batches.UpdateBatchAsync(batch with { Status = BatchStatus.Finalizing, FinalizingAt = now, ExpiredAt = now },
                    BatchStatus.InProgress, ct).ConfigureAwait(false);
                return;
            case BatchStatus.InProgress:
                if ((await store.Batches.SummarizeAsync(batch.Id, ct).ConfigureAwait(false)).AllFinished)
                {
                    await store.Batches.UpdateBatchAsync(batch with { Status = BatchStatus.Finalizing, FinalizingAt = now }, BatchStatus.InProgress, ct)
                        .ConfigureAwait(false);
                }
                return;
            case BatchStatus.Cancelling:
                await store.Batches.WithdrawAvailableAsync(batch.Id, BatchResultCodes.BatchCancelled, ct).ConfigureAwait(false);
                if (await NoneRunningAsync(batch, now, ct).ConfigureAwait(false))
                {
                    await finalizer.RunAsync(batch, BatchStatus.Cancelled, BatchResultCodes.BatchCancelled, ct).ConfigureAwait(false);
                }
                return;
            case BatchStatus.Finalizing when batch.ExpiredAt is not null:
                await store.Batches.WithdrawAvailableAsync(batch.Id, BatchResultCodes.BatchExpired, ct).ConfigureAwait(false);
                if (await NoneRunningAsync(batch, now, ct).ConfigureAwait(false))
                {
                    await finalizer.RunAsync(batch, BatchStatus.Expired, BatchResultCodes.BatchExpired, ct).ConfigureAwait(false);
                }
                return;
            case BatchStatus.Finalizing:
                await finalizer.RunAsync(batch, BatchStatus.Completed, BatchResultCodes.BatchExpired, ct).ConfigureAwait(false);
                return;
        }
    }

    /// <summary>No chunk still leased (workers learn of the stop at their next heartbeat, or their lease runs out).</summary>
    private async Task<bool> NoneRunningAsync(BatchRecord batch, DateTimeOffset now, CancellationToken ct) =>
        (await store.Batches.SummarizeAsync(batch.Id, ct).ConfigureAwait(false)).Leased == 0;
}
