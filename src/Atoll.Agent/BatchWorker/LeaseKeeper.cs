using System.Net;
using Atoll.Core.Contracts;
using Microsoft.Extensions.Logging;

namespace Atoll.Agent.BatchWorker;

/// <summary>
/// Heartbeats one lease in the background while the chunk is worked on. When the server says the lease is lost or
/// the batch cancelled, or the lease must have expired because heartbeats could not get through, it cancels
/// <see cref="Token"/>: the work stops at once and nothing is written.
/// </summary>
internal sealed class LeaseKeeper : IAsyncDisposable
{
    private readonly BatchLeaseClient client;
    private readonly string credential;
    private readonly LeaseGrant lease;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly CancellationTokenSource stopped;
    private readonly CancellationTokenSource loopStop = new();
    private readonly Task loop;
    private string? stopReason;

    public LeaseKeeper(BatchLeaseClient client, string credential, LeaseGrant lease, TimeSpan interval, TimeProvider time, ILogger logger,
        CancellationToken ct)
    {
        this.client = client;
        this.credential = credential;
        this.lease = lease;
        this.time = time;
        this.logger = logger;
        stopped = CancellationTokenSource.CreateLinkedTokenSource(ct);
        loop = RunAsync(interval, TimeSpan.FromSeconds(Math.Max(1, lease.LeaseSeconds)));
    }

    /// <summary>Cancelled when the lease is gone (or the agent stops).</summary>
    public CancellationToken Token => stopped.Token;

    /// <summary>Why the lease is gone: <see cref="LeaseState.Lost"/>, <see cref="LeaseState.Cancelled"/>, "expired" or "unauthorized"; null while held.</summary>
    public string? StopReason => Volatile.Read(ref stopReason);

    public bool Unauthorized => StopReason == "unauthorized";

    /// <summary>Marks the lease gone from outside the heartbeat loop (e.g. completion answered 409).</summary>
    public void Stop(string reason)
    {
        if (Interlocked.CompareExchange(ref stopReason, reason, null) is null)
        {
            stopped.Cancel();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await loopStop.CancelAsync().ConfigureAwait(false);
        await loop.ConfigureAwait(false);
        loopStop.Dispose();
        stopped.Dispose();
    }

    private async Task RunAsync(TimeSpan interval, TimeSpan leaseLength)
    {
        await Task.Yield();
        using var both = CancellationTokenSource.CreateLinkedTokenSource(stopped.Token, loopStop.Token);
        var ct = both.Token;
        var heldUntil = time.GetTimestamp() + (long)(leaseLength.TotalSeconds * time.TimestampFrequency);
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                try
                {
                    var state = await client.HeartbeatAsync(credential, lease, ct).ConfigureAwait(false);
                    if (state.Status != LeaseState.Extended)
                    {
                        logger.LogWarning("Lease on chunk {BatchId}/{Seq} ended by the server ({Status}); dropping the chunk", lease.BatchId, lease.Seq, state.Status);
                        Stop(state.Status);
                        return;
                    }
                    // Our own clock, not the server's ExpiresAt: the two need not agree.
                    heldUntil = time.GetTimestamp() + (long)(leaseLength.TotalSeconds * time.TimestampFrequency);
                }
                catch (ControlPlaneException e) when (e.Status == HttpStatusCode.Unauthorized)
                {
                    logger.LogError("Lease heartbeat for chunk {BatchId}/{Seq} refused: node credential not valid ({Reason})", lease.BatchId, lease.Seq, e.Message);
                    Stop("unauthorized");
                    return;
                }
                catch (ControlPlaneException e)
                {
                    logger.LogWarning("Lease heartbeat for chunk {BatchId}/{Seq} refused ({Status}: {Reason}); dropping the chunk", lease.BatchId, lease.Seq, (int)e.Status, e.Message);
                    Stop(LeaseState.Lost);
                    return;
                }
                catch (Exception e) when (e is HttpRequestException or TimeoutException)
                {
                    if (time.GetTimestamp() >= heldUntil)
                    {
                        logger.LogWarning("Lease on chunk {BatchId}/{Seq} expired: heartbeats failed for {Seconds}s ({Error}); dropping the chunk",
                            lease.BatchId, lease.Seq, leaseLength.TotalSeconds, e.Message);
                        Stop("expired");
                        return;
                    }
                    logger.LogWarning("Lease heartbeat for chunk {BatchId}/{Seq} failed ({Error}); trying again", lease.BatchId, lease.Seq, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }
}
