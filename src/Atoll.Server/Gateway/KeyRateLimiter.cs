using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Atoll.Server.Gateway;

/// <summary>
/// Per-key limits: token buckets for requests per minute and tokens per minute, and a count of requests in flight.
/// A request is admitted when both buckets have something left; tokens are charged as they are known (prompt
/// estimate up front, completion after). Kept in memory per server: with several servers each enforces the limit
/// on its own share.
/// </summary>
internal sealed class KeyRateLimiter(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Buckets> keys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StrongBox<int>> inFlight = new(StringComparer.Ordinal);

    /// <summary>
    /// Counts a request of <paramref name="caller"/> in flight until <see cref="EndRequest"/>; false (nothing counted)
    /// when the key already has its <see cref="GatewayCaller.MaxConcurrent"/> in flight. Always true for a key without one.
    /// </summary>
    public bool TryBeginRequest(GatewayCaller caller)
    {
        if (caller.MaxConcurrent is not { } max)
        {
            return true;
        }
        var count = inFlight.GetOrAdd(caller.Id, static _ => new StrongBox<int>());
        if (Interlocked.Increment(ref count.Value) <= max)
        {
            return true;
        }
        Interlocked.Decrement(ref count.Value);
        return false;
    }

    /// <summary>Ends a request <see cref="TryBeginRequest"/> counted.</summary>
    public void EndRequest(GatewayCaller caller)
    {
        if (caller.MaxConcurrent is not null && inFlight.TryGetValue(caller.Id, out var count))
        {
            Interlocked.Decrement(ref count.Value);
        }
    }

    /// <summary>Requests of the key in flight now (for tests and status).</summary>
    public int InFlight(string keyId) => inFlight.TryGetValue(keyId, out var count) ? Volatile.Read(ref count.Value) : 0;

    /// <summary>Null when admitted, else how long until it would be.</summary>
    public TimeSpan? TryAdmit(GatewayCaller caller, int promptTokens)
    {
        if (caller.RequestsPerMinute is null && caller.TokensPerMinute is null)
        {
            return null;
        }
        // No lambda capturing the caller: its closure would be allocated on entry, for every request of every key.
        var buckets = keys.TryGetValue(caller.Id, out var known)
            ? known
            : keys.GetOrAdd(caller.Id, static (_, state) => new Buckets(state.Caller.RequestsPerMinute, state.Caller.TokensPerMinute, state.Time.GetUtcNow()),
                (Caller: caller, Time: time));
        lock (buckets)
        {
            buckets.Refill(time.GetUtcNow());
            var forRequest = buckets.Requests.WaitFor(1);
            var forTokens = buckets.Tokens.WaitFor(1);
            var wait = forRequest > forTokens ? forRequest : forTokens;
            if (wait > TimeSpan.Zero)
            {
                return wait;
            }
            buckets.Requests.Take(1);
            buckets.Tokens.Take(promptTokens);
            return null;
        }
    }

    public void Charge(GatewayCaller caller, int tokens)
    {
        if (tokens > 0 && (caller.RequestsPerMinute is not null || caller.TokensPerMinute is not null) && keys.TryGetValue(caller.Id, out var buckets))
        {
            lock (buckets)
            {
                buckets.Tokens.Take(tokens);
            }
        }
    }

    private sealed class Buckets(int? rpm, int? tpm, DateTimeOffset now)
    {
        public Bucket Requests { get; } = new(rpm, now);

        public Bucket Tokens { get; } = new(tpm, now);

        public void Refill(DateTimeOffset at)
        {
            Requests.Refill(at);
            Tokens.Refill(at);
        }
    }

    private sealed class Bucket(int? perMinute, DateTimeOffset now)
    {
        private double level = perMinute ?? 0;
        private DateTimeOffset last = now;

        public void Refill(DateTimeOffset at)
        {
            if (perMinute is { } p)
            {
                level = Math.Min(p, level + (p * (at - last).TotalMinutes));
            }
            last = at;
        }

        /// <summary>Time until <paramref name="amount"/> is available (zero when unlimited or available now).</summary>
        public TimeSpan WaitFor(double amount) =>
            perMinute is not { } p || level >= amount ? TimeSpan.Zero : TimeSpan.FromMinutes((amount - level) / p);

        // Tokens may go negative (a long answer): the key then waits until the debt is refilled.
        public void Take(double amount) => level -= perMinute is null ? 0 : amount;
    }
}
