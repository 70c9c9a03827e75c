namespace Atoll.Core.Routing;

/// <summary>
/// One model server the gateway can route to: fixed description plus live state (in-flight count, scraped queue,
/// RTT, probe health, node readiness, passive ejection). Every member is safe to use from concurrent requests.
/// </summary>
public sealed class RoutableEndpoint
{
    /// <summary>Weight of a new RTT sample in the moving average.</summary>
    public const double RttSmoothing = 0.3;

    public const int DefaultCapacity = 16;

    private const int MaxResolvedRoutes = 16;

    private readonly int capacity = DefaultCapacity;
    private int inFlight;
    private long rttTicks = -1;
    private QueueSample? queue;
    private volatile bool nodeReady;
    private volatile bool serverHealthy;
    private (string Path, Uri Uri)[] resolved = [];

    public RoutableEndpoint(string id, string model, Uri url, TimeProvider time, EjectionOptions? ejection = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(url);
        Id = id;
        Model = model;
        Url = url;
        Health = new PassiveHealth(ejection ?? new EjectionOptions(), time);
    }

    /// <summary>Unique key, e.g. <c>node/model/url</c>; used for exclusion and prefix history.</summary>
    public string Id { get; }

    /// <summary>
    /// What clients and metrics see (<c>x-atoll-endpoint</c>, error messages, metric labels): unique like
    /// <see cref="Id"/> but without the model server's address, which stays inside the fleet. <see cref="Id"/>
    /// until set.
    /// </summary>
    public string Name
    {
        get => Volatile.Read(ref name) ?? Id;
        set => Volatile.Write(ref name, value);
    }

    private string? name;

    public string Model { get; }

    /// <summary>OpenAI-compatible base URL of the model server.</summary>
    public Uri Url { get; }

    /// <summary>
    /// <paramref name="relative"/> (e.g. <c>v1/chat/completions</c>) under <see cref="Url"/>. Cached: a route is
    /// resolved once, not parsed again per request.
    /// </summary>
    public Uri Resolve(string relative)
    {
        var known = Volatile.Read(ref resolved);
        foreach (var (path, uri) in known)
        {
            if (ReferenceEquals(path, relative) || string.Equals(path, relative, StringComparison.Ordinal))
                return uri;
        }
        var added = new Uri(Url, relative);
        // Racing adds may drop one another's entry: it is only resolved again. Callers use a few fixed routes; the
        // cap keeps a caller with ever-new paths from growing the list.
        if (known.Length < MaxResolvedRoutes)
            Volatile.Write(ref resolved, [.. known, (relative, added)]);
        return added;
    }

    public string? Node { get; init; }

    public string? Provider { get; init; }

    public string? Region { get; init; }

    /// <summary>Where the endpoint runs; compared with the request's location by the distance scorer.</summary>
    public string? Location { get; init; }

    public string? GpuType { get; init; }

    /// <summary>Most concurrent requests the gateway sends here; at this count the endpoint is saturated.</summary>
    public int Capacity
    {
        get => capacity;
        init => capacity = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(Capacity), value, "Capacity must be positive.");
    }

    /// <summary>Requests the gateway has sent here that have not finished.</summary>
    public int InFlight => Volatile.Read(ref inFlight);

    public bool IsSaturated => InFlight >= Capacity;

    /// <summary>Whether the node is Ready. False until the gateway says otherwise.</summary>
    public bool NodeReady
    {
        get => nodeReady;
        set => nodeReady = value;
    }

    /// <summary>Whether the model server's health probe passes. False until the first passing probe.</summary>
    public bool ServerHealthy
    {
        get => serverHealthy;
        set => serverHealthy = value;
    }

    /// <summary>
    /// Why the latest health probe failed (<c>/health answered 503</c>, <c>connection refused</c>); null while it
    /// passes and before the first probe.
    /// </summary>
    public string? ProbeProblem
    {
        get => Volatile.Read(ref probeProblem);
        private set => Volatile.Write(ref probeProblem, value);
    }

    private string? probeProblem;

    /// <summary>Latest scraped queue metrics; null before the first scrape.</summary>
    public QueueSample? Queue => Volatile.Read(ref queue);

    /// <summary>Moving average of measured round-trip time; null before the first sample.</summary>
    public TimeSpan? Rtt
    {
        get
        {
            var ticks = Interlocked.Read(ref rttTicks);
            return ticks < 0 ? null : TimeSpan.FromTicks(ticks);
        }
    }

    /// <summary>Passive ejection state, fed with the outcome of each attempt.</summary>
    public PassiveHealth Health { get; }

    /// <summary>Counts one request in flight until the returned lease is disposed.</summary>
    public IDisposable BeginRequest()
    {
        Interlocked.Increment(ref inFlight);
        return new InFlightLease(this);
    }

    /// <summary>
    /// Counts one request in flight only if the endpoint is still below capacity, so that requests picked at the same
    /// moment cannot push it past its capacity; null when it is full (pick again).
    /// </summary>
    public IDisposable? TryBeginRequest()
    {
        if (Interlocked.Increment(ref inFlight) <= Capacity)
        {
            return new InFlightLease(this);
        }
        Interlocked.Decrement(ref inFlight);
        return null;
    }

    internal void EndRequest() => Interlocked.Decrement(ref inFlight);

    public void ReportQueue(int waiting, int running, DateTimeOffset at) =>
        Volatile.Write(ref queue, new QueueSample(Math.Max(0, waiting), Math.Max(0, running), at));

    public void ReportRtt(TimeSpan rtt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rtt, TimeSpan.Zero);
        long current, next;
        do
        {
            current = Interlocked.Read(ref rttTicks);
            next = current < 0 ? rtt.Ticks : (long)((RttSmoothing * rtt.Ticks) + ((1 - RttSmoothing) * current));
        }
        while (Interlocked.CompareExchange(ref rttTicks, next, current) != current);
    }

    /// <summary>
    /// Records an active probe. A probe that passes after one that failed also ends any passive ejection (the server
    /// came back); a probe that keeps passing does not, so a server whose health check passes while its requests
    /// fail stays under the growing ejection cooldown.
    /// </summary>
    public void ReportProbe(bool healthy, string? problem = null)
    {
        var wasHealthy = serverHealthy;
        ProbeProblem = healthy ? null : problem ?? "the health probe failed";
        serverHealthy = healthy;
        if (healthy && !wasHealthy)
            Health.MarkHealthyByProbe();
    }

    public override string ToString() => Id;
}
