using Microsoft.Extensions.Logging;

namespace Atoll.Agent.BatchWorker;

/// <summary>
/// Keeps the batch worker running beside the heartbeat loop: a fault is logged and the worker restarted after a
/// delay; nothing it does can end the agent. Returns when cancelled or when the worker stops on a refused credential.
/// </summary>
internal sealed class BatchWorkerSupervisor(BatchWorker worker, TimeSpan restartDelay, TimeProvider time, ILogger logger)
{
    /// <summary>
    /// A supervised worker. <paramref name="controlPlane"/> has the server as its base address; <paramref name="plain"/>
    /// is for the local model servers and the signed URLs and must carry no credentials. Neither may have a timeout
    /// of its own (each call sets its own).
    /// </summary>
    public static BatchWorkerSupervisor Create(AgentOptions options, HttpClient controlPlane, HttpClient plain, TimeProvider time, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger<BatchWorker>();
        var worker = new BatchWorker(options, new BatchLeaseClient(controlPlane, options.RequestTimeout), new SignedUrlClient(plain),
            new LocalModelClient(plain, options.BatchRequestTimeout), time, logger);
        return new BatchWorkerSupervisor(worker, options.MaxBackoff, time, logger);
    }

    public async Task RunAsync(string credential, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await worker.RunAsync(credential, ct).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Batch worker failed; restarting in {Delay:F0}s", restartDelay.TotalSeconds);
            }
            try
            {
                await Task.Delay(restartDelay, time, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
