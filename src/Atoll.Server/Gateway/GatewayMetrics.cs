using Atoll.Server.Observability;
using Prometheus;

namespace Atoll.Server.Gateway;

/// <summary>Gateway series in the server's registry: requests, latency, retries, ejections, in-flight, queue.</summary>
internal sealed class GatewayMetrics
{
    public GatewayMetrics(ServerMetrics server, EndpointRegistry registry, TimeProvider time)
    {
        var factory = Metrics.WithCustomRegistry(server.Registry);
        Requests = factory.CreateCounter("atoll_gateway_requests_total", "Gateway requests by model, endpoint and final status code.",
            new CounterConfiguration { LabelNames = ["model", "endpoint", "code"] });
        FirstToken = factory.CreateHistogram("atoll_gateway_time_to_first_token_seconds",
            "Time from request to the first byte of the answer sent to the client.",
            new HistogramConfiguration { LabelNames = ["model"], Buckets = Histogram.ExponentialBuckets(0.005, 2, 14) });
        Duration = factory.CreateHistogram("atoll_gateway_request_duration_seconds", "Total gateway request time.",
            new HistogramConfiguration { LabelNames = ["model"], Buckets = Histogram.ExponentialBuckets(0.005, 2, 16) });
        Retries = factory.CreateCounter("atoll_gateway_retries_total", "Attempts retried on another endpoint, by reason.",
            new CounterConfiguration { LabelNames = ["model", "reason"] });
        RetryBudgetExhausted = factory.CreateCounter("atoll_gateway_retry_budget_exhausted_total", "Retries refused by the retry budget.");
        Ejections = factory.CreateCounter("atoll_gateway_ejections_total", "Endpoints ejected after consecutive failures.",
            new CounterConfiguration { LabelNames = ["endpoint"] });
        Queued = factory.CreateGauge("atoll_gateway_queued_requests", "Requests waiting for a free endpoint.");
        var inFlight = factory.CreateGauge("atoll_gateway_in_flight_requests", "Requests in flight per endpoint.",
            new GaugeConfiguration { LabelNames = ["endpoint", "model"] });
        var healthy = factory.CreateGauge("atoll_gateway_endpoint_up", "1 when the endpoint can take traffic (node Ready, probe passing, not ejected).",
            new GaugeConfiguration { LabelNames = ["endpoint", "model"] });
        server.Registry.AddBeforeCollectCallback(() =>
        {
            var now = time.GetUtcNow();
            foreach (var e in registry.All)
            {
                inFlight.WithLabels(e.Id, e.Model).Set(e.InFlight);
                healthy.WithLabels(e.Id, e.Model).Set(e.NodeReady && e.ServerHealthy && !e.Health.IsEjected(now) ? 1 : 0);
            }
        });
    }

    public Counter Requests { get; }

    public Histogram FirstToken { get; }

    public Histogram Duration { get; }

    public Counter Retries { get; }

    public Counter RetryBudgetExhausted { get; }

    public Counter Ejections { get; }

    public Gauge Queued { get; }
}
