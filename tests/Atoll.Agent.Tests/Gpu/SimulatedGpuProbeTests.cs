using Atoll.Agent.Gpu;
using Atoll.Core.Health;

namespace Atoll.Agent.Tests.Gpu;

public class SimulatedGpuProbeTests
{
    [Fact]
    public async Task Returns_the_declared_report()
    {
        var declared = SimulatedGpus.Parse("2xH100-80GB");

        var report = await new SimulatedGpuProbe(declared).ProbeAsync(CancellationToken.None);

        Assert.Same(declared, report);
        Assert.True(report.Simulated);
    }

    [Fact]
    public async Task Honours_cancellation()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => new SimulatedGpuProbe(SimulatedGpus.Parse("1xA10-24GB")).ProbeAsync(cts.Token));
    }
}
