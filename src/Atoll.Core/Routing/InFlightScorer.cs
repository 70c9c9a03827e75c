namespace Atoll.Core.Routing;

/// <summary>Free share of the endpoint's capacity, from the gateway's own in-flight count (always current).</summary>
public sealed class InFlightScorer : IEndpointScorer
{
    public string Name => ScorerNames.InFlight;

    public double Score(RoutingRequest request, RoutableEndpoint endpoint, ScoringContext context) =>
        Math.Clamp(1 - ((double)endpoint.InFlight / endpoint.Capacity), 0, 1);
}
