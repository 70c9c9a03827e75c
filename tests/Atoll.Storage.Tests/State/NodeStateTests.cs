using Atoll.Core.Contracts;
using Atoll.Core.Security;
using Atoll.Testing;

namespace Atoll.Storage.Tests.State;

public sealed class NodeStateTests
{
    private static readonly GpuReport TwoGpus = new(
        [
            new GpuDevice(0, "GPU-1111", "NVIDIA A100-SXM4-80GB", 81920, "550.54.15", 41, 87, 40000),
            new GpuDevice(1, null, "NVIDIA A100-SXM4-80GB", null, null, null, null, null),
        ],
        Healthy: false, Reason: "DriverLibraryMismatch", Message: "Failed to initialize NVML: Driver/library version mismatch");

    private static readonly ModelEndpoint[] Models =
    [
        new("meta-llama/Llama-3.1-8B-Instruct", "http://10.0.0.5:8000/v1"),
        new("qwen2.5-7b", "http://10.0.0.5:8001/v1"),
    ];

    private static NodeCondition[] Conditions(DateTimeOffset at, string ready) =>
    [
        new(ConditionTypes.Ready, ready, "Heartbeat", "node heartbeated", at),
        new(ConditionTypes.GpuReady, ConditionTypes.False, "DriverLibraryMismatch", "NVML: version mismatch", at.AddMilliseconds(-250)),
    ];

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Heartbeat_stores_gpus_models_and_conditions_as_sent(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();
        var token = await StoreSamples.AddJoinTokenAsync(store, uses: 1);
        await StoreSamples.RegisterAsync(store, token, "node-a", "cred-a", StoreSamples.Start);
        var at = StoreSamples.Start.AddSeconds(10.5);

        Assert.True(await store.RecordHeartbeatAsync("node-a", TwoGpus, Models, Conditions(at, ConditionTypes.True), at, default));

        var node = await store.GetNodeAsync("node-a", default);
        Assert.NotNull(node);
        Assert.Equal(TwoGpus.Gpus, node.Gpu.Gpus);
        Assert.Equal((TwoGpus.Healthy, TwoGpus.Reason, TwoGpus.Message, TwoGpus.Simulated),
            (node.Gpu.Healthy, node.Gpu.Reason, node.Gpu.Message, node.Gpu.Simulated));
        Assert.Equal(Models, node.Models);
        Assert.Equal(Conditions(at, ConditionTypes.True), node.Conditions);
        Assert.Equal(at, node.LastHeartbeatAt);
        Assert.Equal(StoreSamples.Start, node.RegisteredAt);
    }

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Heartbeat_of_an_unknown_node_is_not_stored(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();

        Assert.False(await store.RecordHeartbeatAsync("ghost", TwoGpus, Models, [], StoreSamples.Start, default));
        Assert.Empty(await store.ListNodesAsync(default));
    }

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Conditions_update_is_refused_when_a_heartbeat_came_in_between(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();
        var token = await StoreSamples.AddJoinTokenAsync(store, uses: 1);
        await StoreSamples.RegisterAsync(store, token, "node-a", "cred-a", StoreSamples.Start);
        var heartbeat = StoreSamples.Start.AddSeconds(10);
        await store.RecordHeartbeatAsync("node-a", TwoGpus, Models, Conditions(heartbeat, ConditionTypes.True), heartbeat, default);
        var stale = Conditions(heartbeat.AddSeconds(40), ConditionTypes.Unknown);

        Assert.False(await store.UpdateConditionsAsync("node-a", stale, StoreSamples.Start, default));
        Assert.Equal(Conditions(heartbeat, ConditionTypes.True), (await store.GetNodeAsync("node-a", default))?.Conditions);

        Assert.True(await store.UpdateConditionsAsync("node-a", stale, heartbeat, default));
        var node = await store.GetNodeAsync("node-a", default);
        Assert.Equal(stale, node?.Conditions);
        Assert.Equal(heartbeat, node?.LastHeartbeatAt);
        Assert.False(await store.UpdateConditionsAsync("ghost", stale, heartbeat, default));
    }

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Deleting_a_node_removes_it_and_revokes_its_credential(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();
        var token = await StoreSamples.AddJoinTokenAsync(store, uses: 2);
        await StoreSamples.RegisterAsync(store, token, "node-a", "cred-a", StoreSamples.Start);
        await StoreSamples.RegisterAsync(store, token, "node-b", "cred-b", StoreSamples.Start);

        Assert.True(await store.DeleteNodeAsync("node-a", default));

        Assert.Null(await store.GetNodeAsync("node-a", default));
        Assert.Null(await store.FindNodeByCredentialAsync(Tokens.Hash("cred-a"), default));
        Assert.Equal("node-b", await store.FindNodeByCredentialAsync(Tokens.Hash("cred-b"), default));
        Assert.Equal(["node-b"], (await store.ListNodesAsync(default)).Select(n => n.Name));
        Assert.False(await store.DeleteNodeAsync("node-a", default));
    }

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Nodes_are_listed_by_name_in_ordinal_order(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();
        string[] names = ["node-b", "node-10", "Node-c", "node-a", "node-2", "node_z"];
        var token = await StoreSamples.AddJoinTokenAsync(store, uses: names.Length);
        foreach (var name in names)
        {
            await StoreSamples.RegisterAsync(store, token, name, "cred-" + name, StoreSamples.Start);
        }

        var listed = await store.ListNodesAsync(default);

        Assert.Equal(names.Order(StringComparer.Ordinal), listed.Select(n => n.Name));
    }
}
