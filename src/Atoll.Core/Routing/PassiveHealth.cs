namespace Atoll.Core.Routing;

/// <summary>
/// Passive outlier ejection for one endpoint: consecutive failures eject it for a cooldown that doubles with each
/// ejection not separated by a success. Reads are lock-free (the picker checks it per request); writes take a lock.
/// </summary>
public sealed class PassiveHealth
{
    private readonly EjectionOptions options;
    private readonly TimeProvider time;
    private readonly Lock gate = new();
    private long ejectedUntilTicks;
    private int consecutiveFailures;
    private int level;
    private long ejectionCount;

    public PassiveHealth(EjectionOptions options, TimeProvider time)
    {
        var errors = options.Validate();
        if (errors.Count > 0)
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        this.options = options;
        this.time = time;
    }

    /// <summary>Failures since the last success or ejection.</summary>
    public int ConsecutiveFailures => Volatile.Read(ref consecutiveFailures);

    /// <summary>Ejections since the last success (the backoff exponent).</summary>
    public int ConsecutiveEjections => Volatile.Read(ref level);

    /// <summary>Every ejection since start, for a metrics counter.</summary>
    public long EjectionCount => Interlocked.Read(ref ejectionCount);

    /// <summary>End of the latest cooldown; null when healthy. In the past while half-open.</summary>
    public DateTimeOffset? EjectedUntil
    {
        get
        {
            var ticks = Volatile.Read(ref ejectedUntilTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    public bool IsEjected(DateTimeOffset now) => Volatile.Read(ref ejectedUntilTicks) > now.UtcTicks;

    public EjectionState GetState(DateTimeOffset now) =>
        IsEjected(now) ? EjectionState.Ejected
        : ConsecutiveEjections > 0 ? EjectionState.HalfOpen
        : EjectionState.Healthy;

    /// <summary>Records a failed attempt; returns true when this failure ejected the endpoint.</summary>
    public bool RecordFailure()
    {
        var now = time.GetUtcNow().UtcTicks;
        lock (gate)
        {
            // Requests started before the ejection finish during it; they must not extend the cooldown.
            if (ejectedUntilTicks > now)
                return false;
            if (level > 0 || ++consecutiveFailures >= options.ConsecutiveFailures)
            {
                Eject(now);
                return true;
            }
            return false;
        }
    }

    /// <summary>Records a successful attempt: the failure streak ends, and a half-open endpoint is healthy again.</summary>
    public void RecordSuccess()
    {
        var now = time.GetUtcNow().UtcTicks;
        lock (gate)
        {
            if (ejectedUntilTicks > now)
                return;
            consecutiveFailures = 0;
            level = 0;
            ejectedUntilTicks = 0;
        }
    }

    /// <summary>An active probe succeeded: ends any ejection and resets the backoff.</summary>
    public void MarkHealthyByProbe()
    {
        lock (gate)
        {
            consecutiveFailures = 0;
            level = 0;
            ejectedUntilTicks = 0;
        }
    }

    private void Eject(long now)
    {
        level++;
        consecutiveFailures = 0;
        ejectionCount++;
        var factor = Math.Pow(2, Math.Min(level - 1, 40));
        var cooldown = Math.Min(options.MaxCooldown.Ticks, options.BaseCooldown.Ticks * factor);
        Volatile.Write(ref ejectedUntilTicks, now + (long)cooldown);
    }
}
