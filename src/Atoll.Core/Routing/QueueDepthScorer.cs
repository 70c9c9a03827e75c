namespace Atoll.Core.Routing;

/// <summary>
/// 1 / (1 + waiting requests) from the endpoint's scraped metrics; neutral 0.5 when there is no sample or it is
/// older than the staleness window (over a WAN a stale queue says nothing about now).
/// </summary>
public sealed class QueueDepthScorer : IEndpointScorer
{
    public const double Neutral = 0.5;

    public QueueDepthScorer(TimeSpan staleAfter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(staleAfter, TimeSpan.Zero);
        StaleAfter = staleAfter;
    }

    public TimeSpan StaleAfter { get; }

    public string Name => ScorerNames.QueueDepth;

    public double Score(RoutingRequest request, RoutableEndpoint endpoint, ScoringContext context)
    {
        var sample = endpoint.Queue;
        if (sample is null || context.Now - sample.ObservedAt > StaleAfter)
            return Neutral;
        return 1.0 / (1 + sample.Waiting);
    }
}
