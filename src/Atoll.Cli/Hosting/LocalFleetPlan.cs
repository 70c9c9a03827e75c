using Atoll.Core.Contracts;

namespace Atoll.Cli.Hosting;

/// <summary>The simulated nodes of <c>atoll up</c>: varied GPUs and one spot node in every three, like a real mixed fleet.</summary>
internal static class LocalFleetPlan
{
    private static readonly (string Gpus, string InstanceType, string Location)[] Shapes =
    [
        ("8xH100-80GB", "sim.8xH100", "local-a"),
        ("4xA100-40GB", "sim.4xA100", "local-b"),
        ("2xRTX3090-24GB", "sim.2xRTX3090", "local-c"),
    ];

    public sealed record LocalNode(string Name, string Gpus, string InstanceType, string Location, string CapacityType);

    public static IReadOnlyList<LocalNode> Create(int count) =>
        Enumerable.Range(0, count).Select(i =>
        {
            var shape = Shapes[i % Shapes.Length];
            return new LocalNode($"local-{i + 1}", shape.Gpus, shape.InstanceType, shape.Location,
                i % 3 == 2 ? CapacityTypes.Spot : CapacityTypes.OnDemand);
        }).ToList();
}
