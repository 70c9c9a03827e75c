namespace Atoll.Providers.Http;

/// <summary>How an adapter talks to its API: retries of transient failures and a client-side rate limit.</summary>
public sealed record ProviderHttpOptions
{
    /// <summary>Attempts per call, the first included, for transient failures and 429s.</summary>
    public int MaxAttempts { get; init; } = 4;

    /// <summary>First backoff delay; doubles per attempt (with jitter) up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Timeout of one HTTP attempt.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Calls per second this client allows itself (the provider's documented limit); 0 = unlimited.</summary>
    public double RequestsPerSecond { get; init; }
}
