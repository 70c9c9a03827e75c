namespace Atoll.Core.Routing;

/// <summary>Share of the prompt's leading blocks already sent to the endpoint, so likely in its prefix cache.</summary>
public sealed class PrefixAffinityScorer(PrefixIndex index) : IEndpointScorer
{
    public string Name => ScorerNames.PrefixAffinity;

    public double Score(RoutingRequest request, RoutableEndpoint endpoint, ScoringContext context)
    {
        var total = request.PrefixHashes.Count;
        return total == 0 ? 0 : (double)index.MatchedBlocks(endpoint.Id, request.PrefixHashes) / total;
    }
}
