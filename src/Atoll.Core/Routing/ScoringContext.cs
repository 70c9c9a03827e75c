namespace Atoll.Core.Routing;

/// <summary>
/// The moment of the pick and every candidate that passed the filters, for scorers that normalise across
/// candidates. A ref struct so a scorer cannot keep the candidate buffer, which the picker reuses.
/// </summary>
public readonly ref struct ScoringContext(DateTimeOffset now, ReadOnlySpan<RoutableEndpoint> candidates)
{
    public DateTimeOffset Now { get; } = now;

    public ReadOnlySpan<RoutableEndpoint> Candidates { get; } = candidates;
}
