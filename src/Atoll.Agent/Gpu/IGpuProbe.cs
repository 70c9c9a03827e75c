using Atoll.Core.Contracts;

namespace Atoll.Agent.Gpu;

/// <summary>Finds out what GPUs this node has and whether the driver answers.</summary>
public interface IGpuProbe
{
    /// <summary>One look at the GPUs. Failures are unhealthy reports; only cancellation throws.</summary>
    Task<GpuReport> ProbeAsync(CancellationToken ct);
}
