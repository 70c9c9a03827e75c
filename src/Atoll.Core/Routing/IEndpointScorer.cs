namespace Atoll.Core.Routing;

/// <summary>Rates one candidate endpoint for a request.</summary>
public interface IEndpointScorer
{
    /// <summary>Key of this scorer's weight in <see cref="PickerOptions.Weights"/>.</summary>
    string Name { get; }

    /// <summary>A score from 0 (worst) to 1 (best). Called per candidate per request: no I/O, no blocking.</summary>
    double Score(RoutingRequest request, RoutableEndpoint endpoint, ScoringContext context);
}
