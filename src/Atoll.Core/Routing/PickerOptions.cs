namespace Atoll.Core.Routing;

/// <summary>Weights of the scorers and the settings of the built-in ones.</summary>
public sealed class PickerOptions
{
    /// <summary>Weight per scorer name (case-insensitive); a scorer without an entry has weight 1, weight 0 turns it off.</summary>
    public Dictionary<string, double> Weights { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        [ScorerNames.PrefixAffinity] = 2,
        [ScorerNames.QueueDepth] = 1,
        [ScorerNames.InFlight] = 2,
        [ScorerNames.NetworkDistance] = 1,
    };

    /// <summary>Scraped queue metrics older than this are ignored.</summary>
    public TimeSpan QueueStaleAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>RTT that the distance scorer rates 0.5 (a different location).</summary>
    public TimeSpan DistanceHalfScoreRtt { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Prompt blocks remembered per endpoint for prefix affinity.</summary>
    public int PrefixBlocksPerEndpoint { get; set; } = PrefixIndex.DefaultBlocksPerEndpoint;

    /// <summary>Problems with these settings, each naming its key; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        foreach (var (name, weight) in Weights)
        {
            if (!double.IsFinite(weight) || weight < 0)
                errors.Add($"{nameof(Weights)}:{name} must be a finite number >= 0 (was {weight}).");
        }
        if (QueueStaleAfter <= TimeSpan.Zero)
            errors.Add($"{nameof(QueueStaleAfter)} must be positive (was {QueueStaleAfter}).");
        if (DistanceHalfScoreRtt <= TimeSpan.Zero)
            errors.Add($"{nameof(DistanceHalfScoreRtt)} must be positive (was {DistanceHalfScoreRtt}).");
        if (PrefixBlocksPerEndpoint < 1)
            errors.Add($"{nameof(PrefixBlocksPerEndpoint)} must be at least 1 (was {PrefixBlocksPerEndpoint}).");
        return errors;
    }
}
