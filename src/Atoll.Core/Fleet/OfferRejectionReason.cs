namespace Atoll.Core.Fleet;

/// <summary>Why an offer that meets a pool's requirements was not chosen (its name is an <see cref="OfferAttempt.Outcome"/>).</summary>
public enum OfferRejectionReason
{
    /// <summary>The provider's catalog lists no capacity for it now.</summary>
    NotAvailable,

    /// <summary>It failed recently (<see cref="UnavailableOffers"/>), or its provider did.</summary>
    RecentlyUnavailable,

    /// <summary>Its price is above the pool's <c>maxPricePerHour</c>.</summary>
    AboveMaxPrice,

    /// <summary>The caller excluded it (e.g. already tried for this claim).</summary>
    Excluded,

    /// <summary>Adding it would take the pool past <c>limits.maxGpus</c>.</summary>
    PoolGpuLimit,

    /// <summary>Adding it would take the pool past <c>limits.maxPricePerHour</c>.</summary>
    PoolPriceLimit,
}
