namespace Atoll.Sim;

/// <summary>
/// Continuous batching reduced to what a router can observe: at most <c>maxRunning</c> sequences generate at
/// once, up to <c>maxWaiting</c> more wait in arrival order, and the rest are turned away.
/// </summary>
internal sealed class SequenceScheduler(int maxRunning, int maxWaiting, int kvCapacityTokens) : IDisposable
{
    private readonly SemaphoreSlim slots = new(maxRunning, maxRunning);
    private int running;
    private int waiting;
    private long runningTokens;

    public int Running => Volatile.Read(ref running);

    public int Waiting => Volatile.Read(ref waiting);

    /// <summary>Tokens held by running sequences over the KV capacity, as vLLM's <c>kv_cache_usage_perc</c>.</summary>
    public double KvUsage => Math.Min(1.0, (double)Interlocked.Read(ref runningTokens) / kvCapacityTokens);

    /// <summary>Waits for a slot; null when the waiting queue is full.</summary>
    public async Task<Lease?> AcquireAsync(CancellationToken ct)
    {
        if (!slots.Wait(0, ct))
        {
            if (Interlocked.Increment(ref waiting) > maxWaiting)
            {
                Interlocked.Decrement(ref waiting);
                return null;
            }
            try
            {
                await slots.WaitAsync(ct).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref waiting);
            }
        }
        Interlocked.Increment(ref running);
        return new Lease(this);
    }

    public void Dispose() => slots.Dispose();

    /// <summary>A running sequence; disposing it frees the slot and its KV tokens.</summary>
    internal sealed class Lease(SequenceScheduler owner) : IDisposable
    {
        private long tokens;
        private bool disposed;

        public void AddTokens(int count)
        {
            tokens += count;
            Interlocked.Add(ref owner.runningTokens, count);
        }

        public void Dispose()
        {
            if (disposed)
            {
                return;
            }
            disposed = true;
            Interlocked.Add(ref owner.runningTokens, -tokens);
            Interlocked.Decrement(ref owner.running);
            owner.slots.Release();
        }
    }
}
