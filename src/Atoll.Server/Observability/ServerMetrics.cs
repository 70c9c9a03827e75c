using Prometheus;

namespace Atoll.Server.Observability;

/// <summary>
/// The server's Prometheus metrics, all prefixed <c>atoll_</c>, in a registry of their own so that several
/// servers in one process (tests) do not share counters.
/// </summary>
internal sealed class ServerMetrics
{
    public ServerMetrics()
    {
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        Registrations = factory.CreateCounter("atoll_node_registrations_total",
            "Node registration attempts by result.", new CounterConfiguration { LabelNames = ["result"] });
        Heartbeats = factory.CreateCounter("atoll_node_heartbeats_total", "Heartbeats accepted from agents.");
        JoinTokensCreated = factory.CreateCounter("atoll_join_tokens_created_total", "Join tokens created.");
        Nodes = factory.CreateGauge("atoll_nodes",
            "Nodes by condition and status, as of the last liveness pass.",
            new GaugeConfiguration { LabelNames = ["condition", "status"] });
        NodeGpus = factory.CreateGauge("atoll_node_gpus", "GPUs reported per node.",
            new GaugeConfiguration { LabelNames = ["node", "provider", "region"] });
        HttpRequests = factory.CreateCounter("atoll_http_requests_total",
            "HTTP requests by method, route and status code.",
            new CounterConfiguration { LabelNames = ["method", "route", "code"] });
        HttpDuration = factory.CreateHistogram("atoll_http_request_duration_seconds",
            "HTTP request duration by route.",
            new HistogramConfiguration { LabelNames = ["route"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 16) });
    }

    public CollectorRegistry Registry { get; }

    public Counter Registrations { get; }

    public Counter Heartbeats { get; }

    public Counter JoinTokensCreated { get; }

    public Gauge Nodes { get; }

    public Gauge NodeGpus { get; }

    public Counter HttpRequests { get; }

    public Histogram HttpDuration { get; }
}
