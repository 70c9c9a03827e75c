namespace Atoll.Core.Retry;

/// <summary>
/// Delays for retrying a remote call: doubling from <c>initial</c> up to <c>max</c>, with ±20 % jitter so that
/// a fleet that lost its server does not come back in lock-step.
/// </summary>
public sealed class ExponentialBackoff
{
    private readonly TimeSpan initial;
    private readonly TimeSpan max;
    private readonly Random random;
    private TimeSpan next;

    public ExponentialBackoff(TimeSpan initial, TimeSpan max, Random? random = null)
    {
        this.initial = initial;
        this.max = max;
        this.random = random ?? Random.Shared;
        next = initial;
    }

    /// <summary>Consecutive failures since the last <see cref="Reset"/>.</summary>
    public int Failures { get; private set; }

    /// <summary>The delay to wait after one more failure.</summary>
    public TimeSpan NextDelay()
    {
        Failures++;
        var current = next;
        next = TimeSpan.FromTicks(Math.Min(max.Ticks, next.Ticks * 2));
        return Jitter(current, 0.2, random);
    }

    public void Reset()
    {
        Failures = 0;
        next = initial;
    }

    /// <summary><paramref name="value"/> moved randomly by up to ±<paramref name="fraction"/>.</summary>
    public static TimeSpan Jitter(TimeSpan value, double fraction, Random random) =>
        TimeSpan.FromTicks((long)(value.Ticks * (1 + ((random.NextDouble() * 2) - 1) * fraction)));
}
