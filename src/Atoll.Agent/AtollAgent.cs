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
        var runner = new AgentRunner(options, probe, new ControlPlaneClient(http), TimeProvider.System, loggers.CreateLogger<AgentRunner>());
        return await runner.RunAsync(ct).ConfigureAwait(false);
    }
}
