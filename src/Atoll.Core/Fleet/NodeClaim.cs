namespace Atoll.Core.Fleet;

/// <summary>
/// A request for one node of a pool and what became of it. The reconciler moves it through <see cref="ClaimPhases"/>;
/// <see cref="Version"/> fences concurrent writers (optimistic concurrency).
/// </summary>
/// <param name="Name">Unique; also the suffix of the instance name (<see cref="InstanceNames"/>) and the node name.</param>
/// <param name="Reason">Why the claim is in its phase: the last failure, the timeout, the preemption, the scale-down.</param>
/// <param name="Attempts">Offers tried for this claim, oldest first.</param>
public sealed record NodeClaim(
    string Name,
    string Pool,
    string Phase,
    DateTimeOffset CreatedAt,
    long Version = 0,
    string? Provider = null,
    string? ProviderType = null,
    string? InstanceType = null,
    string? Region = null,
    string? CapacityType = null,
    string? GpuModel = null,
    int GpuCount = 0,
    decimal? PricePerHour = null,
    decimal? OnDemandPricePerHour = null,
    string? InstanceId = null,
    string? NodeName = null,
    string? JoinTokenId = null,
    DateTimeOffset? LaunchedAt = null,
    DateTimeOffset? RegisteredAt = null,
    DateTimeOffset? InitializedAt = null,
    DateTimeOffset? TerminatingAt = null,
    DateTimeOffset? TerminatedAt = null,
    string? Reason = null,
    IReadOnlyList<OfferAttempt>? Attempts = null);
