using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Hosting;

namespace Atoll.Sim;

/// <summary>The state one simulated model server shares across requests: settings, clock, queue, cache, metrics, randomness.</summary>
internal sealed class SimRuntime : IDisposable
{
    private readonly Random failureRandom;
    private readonly Random jitterRandom;
    private readonly Lock randomGate = new();
    private readonly IServer server;
    private readonly IHostApplicationLifetime lifetime;
    private long startedAt = -1;
    private string? instance;

    public SimRuntime(SimOptions options, TimeProvider time, IServer server, IHostApplicationLifetime lifetime)
    {
        Options = options;
        Time = time;
        this.server = server;
        this.lifetime = lifetime;
        var seed = options.Seed ?? Environment.TickCount;
        // Not security: reproducible failure choice and jitter for a given --seed.
#pragma warning disable CA5394
        failureRandom = new Random(seed);
        jitterRandom = new Random(unchecked(seed * 31 + 7));
#pragma warning restore CA5394
        Cache = new PrefixCache(options.PrefixCacheBlocks);
        Scheduler = new SequenceScheduler(options.MaxNumSeqs, options.MaxWaiting,
            Math.Max(1, options.PrefixCacheBlocks) * TextGenerator.CountTokens(SimOptions.PrefixBlockChars));
    }

    public SimOptions Options { get; }

    public TimeProvider Time { get; }

    public SimMetrics Metrics { get; } = new();

    public PrefixCache Cache { get; }

    public SequenceScheduler Scheduler { get; }

    public CancellationToken Stopping => lifetime.ApplicationStopping;

    /// <summary>Ready once started and the start-up delay has passed.</summary>
    public bool IsReady
    {
        get
        {
            var started = Interlocked.Read(ref startedAt);
            return started >= 0 && Time.GetElapsedTime(started) >= Options.StartupDelay;
        }
    }

    /// <summary>The name in <c>x-atoll-instance</c>: the setting, or hostname:port once the port is bound.</summary>
    public string Instance => instance ??= Options.Instance ?? $"{Environment.MachineName}:{BoundPort()}";

    public void MarkStarted() => Interlocked.Exchange(ref startedAt, Time.GetTimestamp());

    /// <summary>The failure kind to inject into this request, or null for none.</summary>
    public string? PickFailure()
    {
        if (Options.FailureRate <= 0)
        {
            return null;
        }
        lock (randomGate)
        {
#pragma warning disable CA5394
            return failureRandom.NextDouble() < Options.FailureRate
                ? Options.FailureKinds[failureRandom.Next(Options.FailureKinds.Count)]
                : null;
#pragma warning restore CA5394
        }
    }

    public TimeSpan Jittered(TimeSpan delay)
    {
        if (Options.Jitter == 0 || delay <= TimeSpan.Zero)
        {
            return delay;
        }
        double unit;
        lock (randomGate)
        {
#pragma warning disable CA5394
            unit = jitterRandom.NextDouble();
#pragma warning restore CA5394
        }
        return delay * (1 + (Options.Jitter * ((2 * unit) - 1)));
    }

    public Task DelayAsync(TimeSpan delay, CancellationToken ct) =>
        delay > TimeSpan.Zero ? Task.Delay(delay, Time, ct) : Task.CompletedTask;

    public void Dispose() => Scheduler.Dispose();

    private int BoundPort()
    {
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        return address is not null && Uri.TryCreate(address.Replace("*", "localhost", StringComparison.Ordinal), UriKind.Absolute, out var uri)
            ? uri.Port
            : Options.Port;
    }
}
