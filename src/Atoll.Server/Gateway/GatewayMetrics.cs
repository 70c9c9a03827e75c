using System.Collections.Concurrent;
using Atoll.Core.Routing;
using Atoll.Server.Observability;
using Prometheus;

namespace Atoll.Server.Gateway;

/// <summary>
/// Gateway series in the server's registry: requests, latency, retries, ejections, in-flight, queue. The labelled
/// children used per request are looked up once and kept (prometheus-net's own lookup allocates per call), and no
/// exemplars are recorded (they would be read from the trace context per observation).
/// </summary>
internal sealed class GatewayMetrics
{
    private readonly ConcurrentDictionary<(string Model, string Endpoint, string Code), Counter.Child> requests = new();
    private readonly ConcurrentDictionary<string, (Histogram.Child FirstToken, Histogram.Child Duration, Histogram.Child QueueWait)> latency =
        new(StringComparer.Ordinal);

    /// <param name="upstream">The forwarding client, whose <see cref="Http1Upstream.IdleDrops"/> is published.</param>
    public GatewayMetrics(ServerMetrics server, EndpointRegistry registry, PrefixIndex prefixes, TimeProvider time, UpstreamClients upstream)
    {
        var factory = Metrics.WithCustomRegistry(server.Registry);
        factory.ExemplarBehavior = ExemplarBehavior.NoExemplars();
        Requests = factory.CreateCounter("atoll_gateway_requests_total", "Gateway requests by model, endpoint and final status code.",
            new CounterConfiguration { LabelNames = ["model", "endpoint", "code"] });
        FirstToken = factory.CreateHistogram("atoll_gateway_time_to_first_token_seconds",
            "Time from request to the first byte of a successful (2xx) answer sent to the client.",
            new HistogramConfiguration { LabelNames = ["model"], Buckets = Histogram.ExponentialBuckets(0.005, 2, 14) });
        Duration = factory.CreateHistogram("atoll_gateway_request_duration_seconds", "Total gateway request time.",
            new HistogramConfiguration { LabelNames = ["model"], Buckets = Histogram.ExponentialBuckets(0.005, 2, 16) });
        QueueWait = factory.CreateHistogram("atoll_gateway_queue_wait_seconds",
            "Time a request spent waiting for a free endpoint, observed once per request that found every endpoint busy (about 0 when the queue was full).",
            new HistogramConfiguration { LabelNames = ["model"], Buckets = Histogram.ExponentialBuckets(0.005, 2, 14) });
        Retries = factory.CreateCounter("atoll_gateway_retries_total", "Attempts retried on another endpoint, by reason.",
            new CounterConfiguration { LabelNames = ["model", "reason"] });
        RetryBudgetExhausted = factory.CreateCounter("atoll_gateway_retry_budget_exhausted_total", "Retries refused by the retry budget.");
        Ejections = factory.CreateCounter("atoll_gateway_ejections_total", "Endpoints ejected after consecutive failures.",
            new CounterConfiguration { LabelNames = ["endpoint"] });
        Rejected = factory.CreateCounter("atoll_gateway_rejected_total",
            "Requests the gateway answered itself, before any model server: bad input (400), no or wrong key (401), unknown model (404), body too slow (408) or too large (413), key over its rate limit (429).",
            new CounterConfiguration { LabelNames = ["code"] });
        Queued = factory.CreateGauge("atoll_gateway_queued_requests", "Requests waiting for a free endpoint.");
        var inFlight = factory.CreateGauge("atoll_gateway_in_flight_requests", "Requests in flight per endpoint.",
            new GaugeConfiguration { LabelNames = ["endpoint", "model"] });
        var healthy = factory.CreateGauge("atoll_gateway_endpoint_up", "1 when the endpoint can take traffic (node Ready, probe passing, not ejected).",
            new GaugeConfiguration { LabelNames = ["endpoint", "model"] });
        var prefixBlocks = factory.CreateGauge("atoll_gateway_endpoint_prefix_blocks",
            "Prompt blocks (64 characters) the gateway remembers sending to the endpoint at most: its reported KV-cache size, capped by the configured bound.",
            new GaugeConfiguration { LabelNames = ["endpoint", "model"] });
        var idleDrops = factory.CreateCounter("atoll_gateway_upstream_idle_drops_total",
            "Pooled connections to model servers closed instead of reused because bytes or a close arrived on them while idle: a model server that writes after its answers or closes idle connections early.");
        // Endpoints come and go with their nodes: a gone one's gauges are removed, not left at their last value (an
        // endpoint that vanished while up would otherwise read as up for as long as the server runs).
        var shown = new HashSet<(string Name, string Model)>();
        server.Registry.AddBeforeCollectCallback(() =>
        {
            idleDrops.IncTo(upstream.Requests.IdleDrops);
            var now = time.GetUtcNow();
            var current = new HashSet<(string Name, string Model)>();
            foreach (var e in registry.All)
            {
                current.Add((e.Name, e.Model));
                inFlight.WithLabels(e.Name, e.Model).Set(e.InFlight);
                prefixBlocks.WithLabels(e.Name, e.Model).Set(prefixes.Capacity(e.Id));
                healthy.WithLabels(e.Name, e.Model).Set(e.NodeReady && e.ServerHealthy && !e.Health.IsEjected(now) ? 1 : 0);
            }
            lock (shown)
            {
                foreach (var (name, model) in shown.Where(s => !current.Contains(s)))
                {
                    inFlight.RemoveLabelled(name, model);
                    prefixBlocks.RemoveLabelled(name, model);
                    healthy.RemoveLabelled(name, model);
                }
                shown.Clear();
                shown.UnionWith(current);
            }
        });
    }

    public Counter Requests { get; }

    public Histogram FirstToken { get; }

    public Histogram Duration { get; }

    public Histogram QueueWait { get; }

    public Counter Retries { get; }

    public Counter RetryBudgetExhausted { get; }

    public Counter Ejections { get; }

    public Gauge Queued { get; }

    /// <summary>Labelled by status code only: nothing the client chose (a model name, a key) becomes a label.</summary>
    public Counter Rejected { get; }

    /// <summary>Counts a request the gateway refused itself (see <see cref="Rejected"/>).</summary>
    public void CountRejected(int status) => Rejected.WithLabels(Code(status)).Inc();

    /// <summary>Counts one finished request. Label sets are few (models × endpoints × codes) and kept once seen.</summary>
    public void CountRequest(string model, string endpoint, string code)
    {
        if (!requests.TryGetValue((model, endpoint, code), out var child))
        {
            child = requests.GetOrAdd((model, endpoint, code), static (key, counter) => counter.WithLabels(key.Model, key.Endpoint, key.Code), Requests);
        }
        child.Inc();
    }

    /// <summary>The time-to-first-token, duration and queue-wait histograms of <paramref name="model"/>.</summary>
    public (Histogram.Child FirstToken, Histogram.Child Duration, Histogram.Child QueueWait) Latency(string model) =>
        latency.TryGetValue(model, out var children)
            ? children
            : latency.GetOrAdd(model, static (m, self) => (self.FirstToken.WithLabels(m), self.Duration.WithLabels(m), self.QueueWait.WithLabels(m)), this);

    /// <summary>The label text of an HTTP status code; the usual ones without allocating.</summary>
    public static string Code(int status) => status switch
    {
        200 => "200",
        400 => "400",
        401 => "401",
        404 => "404",
        413 => "413",
        429 => "429",
        499 => "499",
        500 => "500",
        502 => "502",
        503 => "503",
        _ => status.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
