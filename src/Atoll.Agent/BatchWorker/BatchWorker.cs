using System.Net;
using Atoll.Core.Contracts;
using Atoll.Core.Retry;
using Microsoft.Extensions.Logging;

namespace Atoll.Agent.BatchWorker;

/// <summary>
/// The agent's batch worker: long-polls the control plane for leases on the models this node serves and works
/// them one at a time (<see cref="ChunkProcessor"/>), yielding to interactive traffic on the local servers.
/// The server being away is survived with backoff; a refused credential stops the worker (the heartbeat loop
/// stops the agent with the explanation).
/// </summary>
internal sealed class BatchWorker
{
    private readonly AgentOptions options;
    private readonly BatchLeaseClient leases;
    private readonly IReadOnlyDictionary<string, ModelTarget> targets;
    private readonly ChunkProcessor chunks;
    private readonly TimeProvider time;
    private readonly ILogger logger;

    public BatchWorker(AgentOptions options, BatchLeaseClient leases, SignedUrlClient signed, LocalModelClient models, TimeProvider time, ILogger logger)
    {
        this.options = options;
        this.leases = leases;
        this.time = time;
        this.logger = logger;
        var targets = new Dictionary<string, ModelTarget>(StringComparer.Ordinal);
        foreach (var m in options.Models)
        {
            var load = new LocalLoadMonitor(models, ModelUrls.Metrics(m.Url), m.Model, time, logger);
            targets.TryAdd(m.Model, new ModelTarget(m.Model, m.Url, load,
                new LineRunner(models, load, options.BatchYieldAbove, Math.Max(0, options.BatchMaxRetries), options.BatchRetryDelay, time, logger)));
        }
        this.targets = targets;
        chunks = new ChunkProcessor(options, leases, signed, targets, time, logger);
    }

    /// <summary>Works leases until <paramref name="ct"/> is cancelled (then throws) or the credential is refused (then returns).</summary>
    public async Task RunAsync(string credential, CancellationToken ct)
    {
        if (targets.Count == 0)
        {
            return;
        }
        logger.LogInformation("Batch worker for {Models} started (concurrency {Concurrency}, yields above {YieldAbove} interactive requests)",
            string.Join(", ", targets.Keys), options.BatchConcurrency, options.BatchYieldAbove);
        var backoff = new ExponentialBackoff(options.InitialBackoff, options.MaxBackoff);
        while (true)
        {
            var models = await QuietModelsAsync(ct).ConfigureAwait(false);
            LeaseGrant? lease;
            try
            {
                lease = await leases.ClaimAsync(credential, new LeaseRequest(models, Math.Max(0, options.LeaseWaitSeconds)), ct).ConfigureAwait(false);
                if (backoff.Failures > 0)
                {
                    logger.LogInformation("Lease polls answered again after {Failures} failure(s)", backoff.Failures);
                }
                backoff.Reset();
            }
            catch (ControlPlaneException e) when (e.Status == HttpStatusCode.Unauthorized)
            {
                logger.LogError("Batch worker stopping: the server refused the node credential ({Reason})", e.Message);
                return;
            }
            catch (Exception e) when (e is ControlPlaneException or HttpRequestException or TimeoutException)
            {
                var delay = backoff.NextDelay();
                if (backoff.Failures == 1 || backoff.Failures % 10 == 0)
                {
                    logger.LogWarning("Lease poll failed ({Failures} in a row): {Error}; retrying in {Delay:F1}s", backoff.Failures, e.Message, delay.TotalSeconds);
                }
                await Task.Delay(delay, time, ct).ConfigureAwait(false);
                continue;
            }
            if (lease is null)
            {
                continue; // nothing within the wait: poll again
            }
            logger.LogInformation("Leased chunk {BatchId}/{Seq} (attempt {Attempt}): {Lines} lines of {Model}",
                lease.BatchId, lease.Seq, lease.Attempt, lease.LineCount, lease.Model);
            if (await chunks.RunAsync(credential, lease, ct).ConfigureAwait(false) == LeaseOutcome.Unauthorized)
            {
                logger.LogError("Batch worker stopping: the server refused the node credential");
                return;
            }
        }
    }

    /// <summary>The models whose local servers are not busy with interactive traffic; waits while there are none.</summary>
    private async Task<List<string>> QuietModelsAsync(CancellationToken ct)
    {
        while (true)
        {
            var quiet = new List<string>(targets.Count);
            foreach (var target in targets.Values)
            {
                if (!await target.Load.IsBusyAsync(options.BatchYieldAbove, ct).ConfigureAwait(false))
                {
                    quiet.Add(target.Model);
                }
            }
            if (quiet.Count > 0)
            {
                return quiet;
            }
            await Task.Delay(LocalLoadMonitor.PollEvery, time, ct).ConfigureAwait(false);
        }
    }
}
