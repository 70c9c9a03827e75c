using Atoll.Core.Contracts;
using Atoll.Core.Fleet;

namespace Atoll.Core.Tests.Fleet;

public sealed class NodeConditionsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Transition_time_moves_only_when_the_status_changes()
    {
        var c = NodeConditions.Set([], ConditionTypes.Ready, ConditionTypes.True, "A", "a", T0);
        c = NodeConditions.Set(c, ConditionTypes.Ready, ConditionTypes.True, "B", "b", T0.AddMinutes(1));
        Assert.Equal(T0, Assert.Single(c).LastTransitionTime);
        Assert.Equal("B", c[0].Reason);

        c = NodeConditions.Set(c, ConditionTypes.Ready, ConditionTypes.False, "C", "c", T0.AddMinutes(2));
        Assert.Equal(T0.AddMinutes(2), Assert.Single(c).LastTransitionTime);
    }

    [Fact]
    public void Liveness_check_turns_ready_unknown_only_after_the_timeout()
    {
        var c = NodeConditions.OnHeartbeat([], GpuReport.None, T0);
        var timeout = TimeSpan.FromSeconds(30);
        Assert.Same(c, NodeConditions.OnLivenessCheck(c, T0, T0 + timeout, timeout));

        var lost = NodeConditions.OnLivenessCheck(c, T0, T0 + timeout + TimeSpan.FromMilliseconds(1), timeout);
        var ready = NodeConditions.Find(lost, ConditionTypes.Ready)!;
        Assert.Equal(ConditionTypes.Unknown, ready.Status);
        Assert.Equal("NodeStatusUnknown", ready.Reason);
        Assert.Contains("timeout 30s", ready.Message);
        // GpuReady is what the agent last said; liveness does not touch it.
        Assert.Equal(NodeConditions.Find(c, ConditionTypes.GpuReady), NodeConditions.Find(lost, ConditionTypes.GpuReady));
        // Already Unknown: nothing more to write.
        Assert.Same(lost, NodeConditions.OnLivenessCheck(lost, T0, T0 + timeout * 10, timeout));
    }

    [Fact]
    public void Unhealthy_gpu_report_sets_gpu_ready_false_with_its_reason()
    {
        var c = NodeConditions.OnHeartbeat([], new GpuReport([], false, "DriverUnreachable", "NVIDIA-SMI has failed"), T0);
        var gpu = NodeConditions.Find(c, ConditionTypes.GpuReady)!;
        Assert.Equal((ConditionTypes.False, "DriverUnreachable", "NVIDIA-SMI has failed"), (gpu.Status, gpu.Reason, gpu.Message));
        Assert.True(NodeConditions.IsTrue(c, ConditionTypes.Ready));
    }
}
