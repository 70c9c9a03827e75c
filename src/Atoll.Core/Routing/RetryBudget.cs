namespace Atoll.Core.Routing;

/// <summary>
/// Retry budget in the style of Finagle's: a retry is allowed while the retries in the sliding window stay within
/// <see cref="RetryBudgetOptions.RetryRatio"/> × the original requests in it, plus a reserve of
/// <see cref="RetryBudgetOptions.MinRetriesPerSecond"/> × the window. So retries cannot multiply the load of an
/// outage. The window slides in tenths; a count leaves it between 0.9 and 1 window after it was made.
/// </summary>
public sealed class RetryBudget
{
    private const int Buckets = 10;

    private readonly TimeProvider time;
    private readonly double ratio;
    private readonly double reserve;
    private readonly long bucketTicks;
    private readonly long[] epochs = new long[Buckets];
    private readonly int[] requests = new int[Buckets];
    private readonly int[] retries = new int[Buckets];
    private readonly Lock gate = new();

    public RetryBudget(RetryBudgetOptions options, TimeProvider time)
    {
        var errors = options.Validate();
        if (errors.Count > 0)
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        this.time = time;
        ratio = options.RetryRatio;
        reserve = options.MinRetriesPerSecond * options.Window.TotalSeconds;
        bucketTicks = options.Window.Ticks / Buckets;
        Array.Fill(epochs, long.MinValue);
    }

    public int RequestsInWindow => Sum(requests);

    public int RetriesInWindow => Sum(retries);

    /// <summary>Counts one original request (not a retry).</summary>
    public void RecordRequest()
    {
        lock (gate)
            requests[Current()]++;
    }

    /// <summary>Takes one retry from the budget; false when the budget is spent and the request must fail.</summary>
    public bool TryAcquireRetry()
    {
        lock (gate)
        {
            var slot = Current();
            if (SumLocked(retries) + 1 > (ratio * SumLocked(requests)) + reserve)
                return false;
            retries[slot]++;
            return true;
        }
    }

    private int Sum(int[] counts)
    {
        lock (gate)
        {
            Current();
            return SumLocked(counts);
        }
    }

    private static int SumLocked(int[] counts)
    {
        var sum = 0;
        foreach (var c in counts)
            sum += c;
        return sum;
    }

    /// <summary>Clears buckets that fell out of the window and returns the slot of the current one.</summary>
    private int Current()
    {
        var epoch = time.GetUtcNow().UtcTicks / bucketTicks;
        for (var i = 0; i < Buckets; i++)
        {
            if (epochs[i] <= epoch - Buckets)
            {
                requests[i] = 0;
                retries[i] = 0;
                epochs[i] = long.MinValue;
            }
        }
        var slot = (int)(epoch % Buckets);
        if (epochs[slot] != epoch)
        {
            requests[slot] = 0;
            retries[slot] = 0;
            epochs[slot] = epoch;
        }
        return slot;
    }
}
