using Atoll.Providers.Http;

namespace Atoll.Providers.Tests;

/// <summary>What every adapter's tests share.</summary>
internal static class ProviderTestKit
{
    /// <summary>The shared HTTP client's retries (4 attempts) without real waiting and without pacing.</summary>
    public static ProviderHttpOptions FastRetries { get; } = new()
    {
        MaxAttempts = 4,
        InitialBackoff = TimeSpan.FromMilliseconds(1),
        MaxBackoff = TimeSpan.FromMilliseconds(10),
        RequestsPerSecond = 0,
    };
}
