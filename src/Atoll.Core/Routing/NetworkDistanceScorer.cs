namespace Atoll.Core.Routing;

/// <summary>
/// Nearness: 1 in the request's own location; otherwise 1 / (1 + rtt / <see cref="HalfScoreRtt"/>) from the
/// measured RTT; neutral 0.5 when neither is known. With the default weights, in-flight load outweighs it once
/// the near endpoints are much busier than the far ones, so traffic spills over only then.
/// </summary>
public sealed class NetworkDistanceScorer : IEndpointScorer
{
    public const double Unknown = 0.5;

    public NetworkDistanceScorer(TimeSpan halfScoreRtt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(halfScoreRtt, TimeSpan.Zero);
        HalfScoreRtt = halfScoreRtt;
    }

    /// <summary>The RTT that scores 0.5.</summary>
    public TimeSpan HalfScoreRtt { get; }

    public string Name => ScorerNames.NetworkDistance;

    public double Score(RoutingRequest request, RoutableEndpoint endpoint, ScoringContext context)
    {
        if (request.ClientLocation is { } here && string.Equals(here, endpoint.Location, StringComparison.OrdinalIgnoreCase))
            return 1;
        if (endpoint.Rtt is { } rtt)
            return 1 / (1 + (rtt / HalfScoreRtt));
        return Unknown;
    }
}
