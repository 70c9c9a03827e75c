using System.Net;
using System.Runtime.CompilerServices;
using Atoll.Core.Batch;
using Atoll.Core.Contracts;
using Microsoft.Extensions.Logging;

namespace Atoll.Agent.BatchWorker;

/// <summary>
/// Works one lease: reads the chunk, runs its lines with bounded concurrency while heartbeating the lease, uploads
/// one result line per input line, then completes. A failed attempt is reported with /fail and uploads nothing;
/// a lost lease or cancelled batch stops everything at once and writes nothing.
/// </summary>
internal sealed class ChunkProcessor(
    AgentOptions options, BatchLeaseClient leases, SignedUrlClient signed, IReadOnlyDictionary<string, ModelTarget> targets,
    TimeProvider time, ILogger logger)
{
    private const int MaxReasonLength = 1000;

    public async Task<LeaseOutcome> RunAsync(string credential, LeaseGrant lease, CancellationToken ct)
    {
        if (!targets.TryGetValue(lease.Model, out var target))
        {
            return await FailAsync(credential, lease, $"node {options.Name} does not serve model {lease.Model}", ct).ConfigureAwait(false);
        }
        var interval = options.LeaseHeartbeatInterval ?? TimeSpan.FromSeconds(Math.Max(1, lease.LeaseSeconds) / 3.0);
        var keeper = new LeaseKeeper(leases, credential, lease, interval, time, logger, ct);
        await using (keeper.ConfigureAwait(false))
        {
            var started = time.GetTimestamp();
            try
            {
                var (jsonl, succeeded, failed) = await WorkAsync(lease, target, keeper.Token).ConfigureAwait(false);
                await RetryTransientAsync("upload the result", () => signed.UploadResultAsync(lease.ResultUrl, jsonl, keeper.Token), keeper.Token)
                    .ConfigureAwait(false);
                var outcome = await CompleteAsync(credential, lease, succeeded, failed, keeper).ConfigureAwait(false);
                if (outcome == LeaseOutcome.Completed)
                {
                    logger.LogInformation("Chunk {BatchId}/{Seq} done: {Succeeded} succeeded, {Failed} failed in {Seconds:F1}s",
                        lease.BatchId, lease.Seq, succeeded, failed, time.GetElapsedTime(started).TotalSeconds);
                }
                return outcome;
            }
            catch (AttemptFailedException e) when (keeper.StopReason is null)
            {
                return await FailAsync(credential, lease, e.Message, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or AttemptFailedException && keeper.StopReason is not null && !ct.IsCancellationRequested)
            {
                logger.LogInformation("Stopped work on chunk {BatchId}/{Seq}: lease {Reason}; nothing written", lease.BatchId, lease.Seq, keeper.StopReason);
                return keeper.Unauthorized ? LeaseOutcome.Unauthorized : LeaseOutcome.Dropped;
            }
        }
    }

    private async Task<(byte[] Jsonl, int Succeeded, int Failed)> WorkAsync(LeaseGrant lease, ModelTarget target, CancellationToken ct)
    {
        var input = await RetryTransientAsync("read the chunk input", () => signed.ReadChunkAsync(lease, ct), ct).ConfigureAwait(false);
        var lines = new List<BatchRequestLine>(lease.LineCount);
        using (var stream = new MemoryStream(input, writable: false))
        {
            await foreach (var raw in ChunkReader.ReadLines(stream, ct).ConfigureAwait(false))
            {
                try
                {
                    lines.Add(BatchRequestLine.Parse(raw));
                }
                catch (FormatException e)
                {
                    throw new AttemptFailedException($"line {lease.FirstLine + lines.Count} of the chunk is not a batch request: {e.Message}", e);
                }
            }
        }
        if (lines.Count != lease.LineCount)
        {
            logger.LogWarning("Chunk {BatchId}/{Seq} has {Lines} lines, the lease says {Expected}", lease.BatchId, lease.Seq, lines.Count, lease.LineCount);
        }
        logger.LogDebug("Chunk {BatchId}/{Seq}: running {Lines} requests on {Model}", lease.BatchId, lease.Seq, lines.Count, lease.Model);

        var url = ModelUrls.Endpoint(target.Url, lease.Endpoint);
        var results = new (byte[] Line, bool Success)[lines.Count];
        var failure = new StrongBox<AttemptFailedException>();
        using var work = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.BatchConcurrency), CancellationToken = work.Token };
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, lines.Count), parallel, async (i, lineCt) =>
            {
                try
                {
                    results[i] = await target.Lines.RunAsync(lines[i], url, lineCt).ConfigureAwait(false);
                }
                catch (AttemptFailedException e)
                {
                    // One line out of retries fails the attempt: stop the others now rather than finish them for nothing.
                    Interlocked.CompareExchange(ref failure.Value, e, null);
                    await work.CancelAsync().ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (failure.Value is not null && !ct.IsCancellationRequested)
        {
        }
        if (failure.Value is { } failed)
        {
            throw failed;
        }

        using var jsonl = new MemoryStream();
        var succeeded = 0;
        foreach (var (line, success) in results)
        {
            jsonl.Write(line);
            jsonl.WriteByte((byte)'\n');
            succeeded += success ? 1 : 0;
        }
        return (jsonl.ToArray(), succeeded, results.Length - succeeded);
    }

    private async Task<LeaseOutcome> CompleteAsync(string credential, LeaseGrant lease, int succeeded, int failed, LeaseKeeper keeper)
    {
        var delay = options.BatchRetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await leases.CompleteAsync(credential, lease, succeeded, failed, keeper.Token).ConfigureAwait(false);
                return LeaseOutcome.Completed;
            }
            catch (ControlPlaneException e) when (e.Status == HttpStatusCode.Unauthorized)
            {
                keeper.Stop("unauthorized");
                throw new OperationCanceledException(keeper.Token);
            }
            catch (ControlPlaneException e)
            {
                logger.LogWarning("Completion of chunk {BatchId}/{Seq} refused ({Status}: {Reason}); the server discards this result",
                    lease.BatchId, lease.Seq, (int)e.Status, e.Message);
                return LeaseOutcome.Dropped;
            }
            catch (Exception e) when (e is HttpRequestException or TimeoutException)
            {
                if (attempt > options.BatchMaxRetries + 2)
                {
                    logger.LogWarning("Completion of chunk {BatchId}/{Seq} failed {Attempts} times ({Error}); the lease will expire and the chunk run again",
                        lease.BatchId, lease.Seq, attempt, e.Message);
                    return LeaseOutcome.Dropped;
                }
                await Task.Delay(delay, time, keeper.Token).ConfigureAwait(false);
                delay *= 2;
            }
        }
    }

    private async Task<LeaseOutcome> FailAsync(string credential, LeaseGrant lease, string reason, CancellationToken ct)
    {
        if (reason.Length > MaxReasonLength)
        {
            reason = reason[..MaxReasonLength];
        }
        logger.LogWarning("Attempt {Attempt} at chunk {BatchId}/{Seq} failed: {Reason}", lease.Attempt, lease.BatchId, lease.Seq, reason);
        var delay = options.BatchRetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await leases.FailAsync(credential, lease, reason, ct).ConfigureAwait(false);
                return LeaseOutcome.Failed;
            }
            catch (ControlPlaneException e) when (e.Status == HttpStatusCode.Unauthorized)
            {
                return LeaseOutcome.Unauthorized;
            }
            catch (ControlPlaneException e)
            {
                logger.LogInformation("Failure report for chunk {BatchId}/{Seq} refused ({Status}: {Reason})", lease.BatchId, lease.Seq, (int)e.Status, e.Message);
                return LeaseOutcome.Failed;
            }
            catch (Exception e) when (e is HttpRequestException or TimeoutException)
            {
                if (attempt > options.BatchMaxRetries)
                {
                    logger.LogWarning("Failure report for chunk {BatchId}/{Seq} not delivered ({Error}); the lease will expire instead", lease.BatchId, lease.Seq, e.Message);
                    return LeaseOutcome.Failed;
                }
                await Task.Delay(delay, time, ct).ConfigureAwait(false);
                delay *= 2;
            }
        }
    }

    /// <summary>Runs a signed-URL transfer, retrying network errors, timeouts and 5xx; a refusal (4xx) or running out of retries fails the attempt.</summary>
    private async Task<T> RetryTransientAsync<T>(string what, Func<Task<T>> transfer, CancellationToken ct)
    {
        var delay = options.BatchRetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            string problem;
            try
            {
                return await transfer().ConfigureAwait(false);
            }
            catch (HttpRequestException e) when (SignedUrlClient.IsPermanent(e))
            {
                throw new AttemptFailedException($"could not {what}: {e.Message}", e);
            }
            catch (Exception e) when (e is HttpRequestException or TimeoutException)
            {
                problem = e.Message;
            }
            if (attempt > options.BatchMaxRetries)
            {
                throw new AttemptFailedException($"could not {what}: {problem} on {attempt} attempt(s)");
            }
            await Task.Delay(delay, time, ct).ConfigureAwait(false);
            delay *= 2;
        }
    }

    private async Task RetryTransientAsync(string what, Func<Task> transfer, CancellationToken ct) =>
        await RetryTransientAsync(what, async () =>
        {
            await transfer().ConfigureAwait(false);
            return true;
        }, ct).ConfigureAwait(false);
}
