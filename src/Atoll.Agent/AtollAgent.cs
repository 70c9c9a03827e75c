using Atoll.Agent.BatchWorker;
using Atoll.Agent.Gpu;
using Atoll.Core.Health;
using Microsoft.Extensions.Logging;

namespace Atoll.Agent;

/// <summary>Entry point of <c>atoll agent</c>.</summary>
public static class AtollAgent
{
    /// <summary>
    /// Runs until <paramref name="ct"/> is cancelled or the node is removed; returns an <see cref="AgentExitCodes"/> value.
    /// GPUs come from <paramref name="simulatedGpus"/> (e.g. "2xH100-80GB") when given, else from nvidia-smi.
    /// </summary>
    public static async Task<int> RunAsync(
        AgentOptions options, string? simulatedGpus, string nvidiaSmi, ILoggerFactory loggers, CancellationToken ct)
    {
        IGpuProbe probe = simulatedGpus is null
            ? new NvidiaSmiProbe(nvidiaSmi)
            : new SimulatedGpuProbe(SimulatedGpus.Parse(simulatedGpus));
        using var http = new HttpClient
        {
            BaseAddress = options.Server.AbsoluteUri.EndsWith('/') ? options.Server : new Uri(options.Server.AbsoluteUri + "/"),
            Timeout = options.RequestTimeout,
        };
        var runBatch = options.BatchEnabled && options.Models.Count > 0;
        // Batch calls set their own deadlines (lease polls are long polls); the plain client carries no credentials:
        // it talks to the local model servers and to signed URLs.
        using var batchHttp = runBatch ? new HttpClient { BaseAddress = http.BaseAddress, Timeout = Timeout.InfiniteTimeSpan } : null;
        using var plainHttp = runBatch ? new HttpClient { Timeout = Timeout.InfiniteTimeSpan } : null;
        var batch = runBatch ? BatchWorkerSupervisor.Create(options, batchHttp!, plainHttp!, TimeProvider.System, loggers) : null;
        var runner = new AgentRunner(options, probe, new ControlPlaneClient(http), TimeProvider.System, loggers.CreateLogger<AgentRunner>(), batch);
        return await runner.RunAsync(ct).ConfigureAwait(false);
    }
}
