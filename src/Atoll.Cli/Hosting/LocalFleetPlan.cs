using Atoll.Core.Contracts;
using Atoll.Core.Resources;

namespace Atoll.Cli.Hosting;

/// <summary>
/// What <c>atoll up</c> applies: a <c>local</c> Provider (nodes are processes on this machine with simulated GPUs)
/// and a <c>default</c> GpuPool of N one-GPU nodes, spot preferred. The nodes then come through the same
/// provisioning path as cloud nodes: offer selection, claims, bootstrap, join token, registration.
/// </summary>
internal static class LocalFleetPlan
{
    /// <summary>The model every local node serves through its simulator.</summary>
    public const string Model = "llama-sim";

    public const string ProviderName = "local";

    public const string PoolName = "default";

    public static IReadOnlyList<ResourceDocument> Resources(int nodes, string dataDir)
    {
        var provider = new ProviderSpec(
            ProviderTypes.Local,
            Local: new LocalProviderSpec(MaxNodes: Math.Max(nodes, 1), Model: Model),
            Settings: new Dictionary<string, string> { ["dataDir"] = dataDir });
        var pool = new GpuPoolSpec(
            [ProviderName],
            Requirements: new PoolRequirements(GpusPerNode: 1),
            CapacityTypes: [CapacityTypes.Spot, CapacityTypes.OnDemand],
            Replicas: nodes,
            Timeouts: new PoolTimeouts("2m", "2m", "2m"),
            Labels: new Dictionary<string, string> { ["atoll.dev/fleet"] = "up" });
        return
        [
            new ResourceDocument(ResourceKinds.ApiVersion, ResourceKinds.Provider, new ResourceMetadata(ProviderName), ResourceSpecs.ToJson(provider)),
            new ResourceDocument(ResourceKinds.ApiVersion, ResourceKinds.GpuPool, new ResourceMetadata(PoolName), ResourceSpecs.ToJson(pool)),
        ];
    }
}
