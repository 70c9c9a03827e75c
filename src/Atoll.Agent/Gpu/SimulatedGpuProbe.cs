using Atoll.Core.Contracts;

namespace Atoll.Agent.Gpu;

/// <summary>Reports GPUs declared with <c>--gpus</c> (see <see cref="Core.Health.SimulatedGpus"/>) instead of asking a driver.</summary>
internal sealed class SimulatedGpuProbe(GpuReport report) : IGpuProbe
{
    public Task<GpuReport> ProbeAsync(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        return Task.FromResult(report);
    }
}
