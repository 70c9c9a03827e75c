namespace Atoll.Core.Resources;

/// <summary>The <c>spec</c> of a <c>GpuPool</c>: what nodes to keep, where to buy them, and for how much.</summary>
/// <param name="Providers">Names of <c>Provider</c> resources allowed; at least one.</param>
/// <param name="Regions">Regions allowed; empty = any region of the allowed providers.</param>
/// <param name="CapacityTypes">In order of preference; default <c>[spot, on-demand]</c>.</param>
/// <param name="MaxPricePerHour">Highest price per node-hour in USD; null = no limit.</param>
/// <param name="Replicas">Desired nodes; when null the pool keeps <see cref="Min"/>.</param>
public sealed record GpuPoolSpec(
    IReadOnlyList<string> Providers,
    PoolRequirements? Requirements = null,
    IReadOnlyList<string>? Regions = null,
    IReadOnlyList<string>? CapacityTypes = null,
    decimal? MaxPricePerHour = null,
    int? Replicas = null,
    int? Min = null,
    int? Max = null,
    PoolLimits? Limits = null,
    PoolBootstrap? Bootstrap = null,
    PoolTimeouts? Timeouts = null,
    IReadOnlyDictionary<string, string>? Labels = null,
    IReadOnlyList<string>? Taints = null);
