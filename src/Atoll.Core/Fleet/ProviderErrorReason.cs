namespace Atoll.Core.Fleet;

/// <summary>What a provider error means, so that policy code switches on meaning, not on strings.</summary>
public enum ProviderErrorReason
{
    /// <summary>The provider has no capacity for this instance type in this region now: try the next offer.</summary>
    InsufficientCapacity,

    /// <summary>The account's quota or limit is reached (or funds are short): try another provider.</summary>
    QuotaExceeded,

    /// <summary>The credentials were refused: the provider is unusable until they are fixed.</summary>
    Unauthorized,

    /// <summary>Too many calls: back off and retry later.</summary>
    RateLimited,

    /// <summary>The instance or resource does not exist (any more).</summary>
    NotFound,

    /// <summary>The request was wrong (a bug or a bad spec): retrying the same call will not help.</summary>
    InvalidRequest,

    /// <summary>A network error, timeout or 5xx: retry with backoff.</summary>
    Transient,
}
