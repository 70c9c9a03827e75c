namespace Atoll.Core.Routing;

/// <summary>When an endpoint is taken out of rotation after failures, and for how long.</summary>
public sealed class EjectionOptions
{
    /// <summary>Consecutive failures that eject an endpoint.</summary>
    public int ConsecutiveFailures { get; set; } = 3;

    /// <summary>Cooldown of the first ejection; each further ejection without a success in between doubles it.</summary>
    public TimeSpan BaseCooldown { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest cooldown, however often the endpoint has been ejected.</summary>
    public TimeSpan MaxCooldown { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Problems with these settings, each naming its key; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (ConsecutiveFailures < 1)
            errors.Add($"{nameof(ConsecutiveFailures)} must be at least 1 (was {ConsecutiveFailures}).");
        if (BaseCooldown <= TimeSpan.Zero)
            errors.Add($"{nameof(BaseCooldown)} must be positive (was {BaseCooldown}).");
        if (MaxCooldown < BaseCooldown)
            errors.Add($"{nameof(MaxCooldown)} must be at least {nameof(BaseCooldown)} (was {MaxCooldown}).");
        return errors;
    }
}
