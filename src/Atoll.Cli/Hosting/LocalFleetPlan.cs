using Atoll.Core.Contracts;

namespace Atoll.Cli.Hosting;

/// <summary>The simulated nodes of <c>atoll up</c>: varied GPUs and one spot node in every three, like a real mixed fleet.</summary>
internal static class LocalFleetPlan
{
    /// <summary>The model every local node serves through its simulator.</summary>
    public const string Model = "llama-sim";

    // Latencies grow with "distance" so that the gateway's choices are visible: a near fast H100, a farther A100,
    // a distant slow consumer card.
    private static readonly (string Gpus, string InstanceType, string Location, int TtftMs, int ItlMs)[] Shapes =
    [
        ("8xH100-80GB", "sim.8xH100", "local-a", 40, 8),
        ("4xA100-40GB", "sim.4xA100", "local-b", 80, 15),
        ("2xRTX3090-24GB", "sim.2xRTX3090", "local-c", 150, 25),
    ];

    public sealed record LocalNode(string Name, string Gpus, string InstanceType, string Location, string CapacityType, int TtftMs, int ItlMs);

    public static IReadOnlyList<LocalNode> Create(int count) =>
        Enumerable.Range(0, count).Select(i =>
        {
            var shape = Shapes[i % Shapes.Length];
            return new LocalNode($"local-{i + 1}", shape.Gpus, shape.InstanceType, shape.Location,
                i % 3 == 2 ? CapacityTypes.Spot : CapacityTypes.OnDemand, shape.TtftMs, shape.ItlMs);
        }).ToList();
}
