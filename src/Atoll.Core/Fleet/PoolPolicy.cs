using Atoll.Core.Resources;

namespace Atoll.Core.Fleet;

/// <summary>
/// A GpuPool's spec with every default filled in, in the form the selector, scaler and timeouts read.
/// Build it with <see cref="From"/> from a spec that passed <c>ResourceValidator</c>.
/// </summary>
/// <param name="Regions">Allowed regions; empty = any region.</param>
/// <param name="CapacityTypes">In order of preference.</param>
/// <param name="GpuModels">Canonical names; empty = any model (but still a GPU when <see cref="GpusPerNode"/> &gt; 0).</param>
/// <param name="MaxPricePerHour">Highest price of one node-hour; null = none.</param>
/// <param name="Desired">Nodes to keep: <c>clamp(replicas ?? min ?? 0, min ?? 0, max ?? int.MaxValue)</c>.</param>
/// <param name="MaxGpus">Ceiling of GPUs over all the pool's active claims; null = none.</param>
/// <param name="MaxPoolPricePerHour">Ceiling of USD/h over all the pool's active claims; null = none.</param>
public sealed record PoolPolicy(
    string Name,
    IReadOnlyList<string> Providers,
    IReadOnlyList<string> Regions,
    IReadOnlyList<string> CapacityTypes,
    IReadOnlyList<string> GpuModels,
    int GpusPerNode,
    int MinGpuMemoryGiB,
    int MinVCpus,
    int MinMemoryGiB,
    decimal? MaxPricePerHour,
    int Desired,
    int Min,
    int Max,
    int? MaxGpus,
    decimal? MaxPoolPricePerHour,
    TimeSpan LaunchTimeout,
    TimeSpan RegistrationTimeout,
    TimeSpan InitializationTimeout,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyList<string> Taints)
{
    /// <summary>Default launch timeout: a Pending claim without an instance after this long is given up.</summary>
    public static readonly TimeSpan DefaultLaunchTimeout = TimeSpan.FromMinutes(10);

    /// <summary>Default registration timeout: longer than Karpenter's 15 min, as GPU images boot slowly.</summary>
    public static readonly TimeSpan DefaultRegistrationTimeout = TimeSpan.FromMinutes(20);

    /// <summary>Default initialization timeout: a node whose GPUs never turn healthy stops costing money.</summary>
    public static readonly TimeSpan DefaultInitializationTimeout = TimeSpan.FromMinutes(30);

    /// <summary>The default order of capacity types: spot first, then on-demand.</summary>
    public static readonly IReadOnlyList<string> DefaultCapacityTypes = [Contracts.CapacityTypes.Spot, Contracts.CapacityTypes.OnDemand];

    /// <summary>
    /// The policy of pool <paramref name="name"/>. Throws <see cref="FormatException"/> for a timeout that is not a
    /// duration (the validator reports those before a spec is stored).
    /// </summary>
    public static PoolPolicy From(string name, GpuPoolSpec spec)
    {
        var requirements = spec.Requirements ?? new PoolRequirements();
        var min = Math.Max(0, spec.Min ?? 0);
        var max = Math.Max(min, spec.Max ?? int.MaxValue);
        var desired = Math.Clamp(spec.Replicas ?? spec.Min ?? 0, min, max);
        return new PoolPolicy(
            name,
            spec.Providers ?? [],
            spec.Regions ?? [],
            spec.CapacityTypes is { Count: > 0 } types ? types : DefaultCapacityTypes,
            (requirements.GpuModels ?? []).Select(m => Fleet.GpuModels.Canonical(m) ?? m).ToArray(),
            requirements.GpusPerNode,
            requirements.MinGpuMemoryGiB,
            requirements.MinVCpus,
            requirements.MinMemoryGiB,
            spec.MaxPricePerHour,
            desired,
            min,
            max,
            spec.Limits?.MaxGpus,
            spec.Limits?.MaxPricePerHour,
            Timeout(spec.Timeouts?.Launch, DefaultLaunchTimeout, "launch timeout"),
            Timeout(spec.Timeouts?.Registration, DefaultRegistrationTimeout, "registration timeout"),
            Timeout(spec.Timeouts?.Initialization, DefaultInitializationTimeout, "initialization timeout"),
            spec.Labels ?? new Dictionary<string, string>(),
            spec.Taints ?? []);
    }

    /// <summary>The rank of a capacity type in this pool's preference (0 = best), or -1 when the pool does not take it.</summary>
    public int CapacityRank(string capacityType)
    {
        for (var i = 0; i < CapacityTypes.Count; i++)
        {
            if (string.Equals(CapacityTypes[i], capacityType, StringComparison.Ordinal))
            {
                return i;
            }
        }
        return -1;
    }

    private static TimeSpan Timeout(string? text, TimeSpan fallback, string what) =>
        string.IsNullOrWhiteSpace(text) ? fallback : Durations.Parse(text, what);
}
