using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Testing;

namespace Atoll.Server.Tests;

public sealed class NodeLivenessTests
{
    [Theory]
    [MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Heartbeat_timeout_makes_the_node_not_ready_and_a_heartbeat_brings_it_back(string engine)
    {
        await using var host = await ServerHost.StartAsync(engine); // heartbeat 10 s → timeout 30 s
        var credential = await host.JoinAsync("gpu-1");
        var joined = host.Time.GetUtcNow();

        host.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Empty(await host.Liveness.ReconcileOnceAsync(CancellationToken.None));
        Assert.Equal(ConditionTypes.True, Ready(await host.GetNodeAsync("gpu-1")).Status);

        host.Time.Advance(TimeSpan.FromSeconds(1));
        await host.Liveness.ReconcileOnceAsync(CancellationToken.None);
        var lost = Ready(await host.GetNodeAsync("gpu-1"));
        Assert.Equal(ConditionTypes.Unknown, lost.Status);
        Assert.Equal("NodeStatusUnknown", lost.Reason);
        Assert.Equal(joined + TimeSpan.FromSeconds(31), lost.LastTransitionTime);

        // Further passes do not move the transition time.
        host.Time.Advance(TimeSpan.FromSeconds(20));
        await host.Liveness.ReconcileOnceAsync(CancellationToken.None);
        Assert.Equal(lost.LastTransitionTime, Ready(await host.GetNodeAsync("gpu-1")).LastTransitionTime);

        Assert.True((await host.HeartbeatAsync(credential, "gpu-1")).IsSuccessStatusCode);
        var back = Ready(await host.GetNodeAsync("gpu-1"));
        Assert.Equal(ConditionTypes.True, back.Status);
        Assert.Equal(host.Time.GetUtcNow(), back.LastTransitionTime);
    }

    [Theory]
    [MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Node_timeout_is_configurable(string engine)
    {
        await using var host = await ServerHost.StartAsync(engine, o => o.NodeTimeout = TimeSpan.FromSeconds(12));
        await host.JoinAsync("gpu-1");
        host.Time.Advance(TimeSpan.FromSeconds(11));
        await host.Liveness.ReconcileOnceAsync(CancellationToken.None);
        Assert.Equal(ConditionTypes.True, Ready(await host.GetNodeAsync("gpu-1")).Status);

        host.Time.Advance(TimeSpan.FromSeconds(2));
        await host.Liveness.ReconcileOnceAsync(CancellationToken.None);
        Assert.Equal(ConditionTypes.Unknown, Ready(await host.GetNodeAsync("gpu-1")).Status);
    }

    [Theory]
    [MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Gpu_failure_reported_by_the_agent_sets_gpu_ready_false_with_its_reason(string engine)
    {
        await using var host = await ServerHost.StartAsync(engine);
        var credential = await host.JoinAsync("gpu-1");
        Assert.Equal(ConditionTypes.True, NodeConditions.Find((await host.GetNodeAsync("gpu-1")).Conditions, ConditionTypes.GpuReady)!.Status);

        host.Time.Advance(TimeSpan.FromSeconds(10));
        var broken = new GpuReport([], false, "DriverLibraryMismatch", "Failed to initialize NVML: Driver/library version mismatch");
        Assert.True((await host.HeartbeatAsync(credential, "gpu-1", broken)).IsSuccessStatusCode);

        var node = await host.GetNodeAsync("gpu-1");
        var gpuReady = NodeConditions.Find(node.Conditions, ConditionTypes.GpuReady)!;
        Assert.Equal(ConditionTypes.False, gpuReady.Status);
        Assert.Equal("DriverLibraryMismatch", gpuReady.Reason);
        Assert.Contains("version mismatch", gpuReady.Message);
        Assert.Equal(host.Time.GetUtcNow(), gpuReady.LastTransitionTime);
        Assert.Equal(ConditionTypes.True, Ready(node).Status); // the agent itself is alive
    }

    [Theory]
    [MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task A_live_name_cannot_be_taken_but_a_dead_one_can_and_the_old_credential_dies(string engine)
    {
        await using var host = await ServerHost.StartAsync(engine);
        var first = await host.JoinAsync("gpu-1");
        var token = await host.CreateJoinTokenAsync();
        Assert.Contains("already registered and alive", await Problem.DetailAsync(
            await host.RegisterAsync(token, ServerHost.Registration("gpu-1")), 409));

        host.Time.Advance(TimeSpan.FromSeconds(31));
        var again = await host.RegisterAsync(token, ServerHost.Registration("gpu-1", ServerHost.Gpus(4)));
        Assert.True(again.IsSuccessStatusCode, "the 409 must not have consumed the token");
        Assert.Equal(4, (await host.GetNodeAsync("gpu-1")).Gpu.Gpus.Count);
        Assert.Contains("not valid", await Problem.DetailAsync(await host.HeartbeatAsync(first, "gpu-1"), 401));
    }

    private static NodeCondition Ready(NodeView node) => NodeConditions.Find(node.Conditions, ConditionTypes.Ready)!;
}
