namespace Atoll.Core.Routing;

/// <summary>How many retries a retry budget allows.</summary>
public sealed class RetryBudgetOptions
{
    /// <summary>Retries allowed per original request in the window, on top of the reserve.</summary>
    public double RetryRatio { get; set; } = 0.2;

    /// <summary>Sliding window over which requests and retries are counted.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries per second always allowed, so a quiet gateway can still retry.</summary>
    public double MinRetriesPerSecond { get; set; } = 3;

    /// <summary>Problems with these settings, each naming its key; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!double.IsFinite(RetryRatio) || RetryRatio < 0)
            errors.Add($"{nameof(RetryRatio)} must be a finite number >= 0 (was {RetryRatio}).");
        if (Window < TimeSpan.FromMilliseconds(10))
            errors.Add($"{nameof(Window)} must be at least 10 ms (was {Window}).");
        if (!double.IsFinite(MinRetriesPerSecond) || MinRetriesPerSecond < 0)
            errors.Add($"{nameof(MinRetriesPerSecond)} must be a finite number >= 0 (was {MinRetriesPerSecond}).");
        return errors;
    }
}
