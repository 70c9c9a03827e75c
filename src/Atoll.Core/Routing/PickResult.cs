using System.Diagnostics.CodeAnalysis;

namespace Atoll.Core.Routing;

/// <summary>
/// The endpoint chosen for a request, or why there is none. A struct: the gateway picks once per request. Its default
/// value reads as no endpoint (<see cref="PickOutcome.NoEndpoints"/>, empty <see cref="Scores"/>), never as a pick.
/// </summary>
public readonly struct PickResult
{
    private readonly PickOutcome outcome;
    private readonly IReadOnlyList<EndpointScore>? scores;

    private PickResult(PickOutcome outcome, RoutableEndpoint? endpoint, double total, IReadOnlyList<EndpointScore> scores, FilterCounts counts)
    {
        this.outcome = outcome;
        Endpoint = endpoint;
        Total = total;
        this.scores = scores;
        Counts = counts;
    }

    public PickOutcome Outcome => outcome == PickOutcome.Picked && Endpoint is null ? PickOutcome.NoEndpoints : outcome;

    [MemberNotNullWhen(true, nameof(Endpoint))]
    public bool IsPicked => Endpoint is not null;

    /// <summary>The chosen endpoint; null unless <see cref="IsPicked"/>.</summary>
    public RoutableEndpoint? Endpoint { get; }

    /// <summary>Weighted sum of the chosen endpoint's scores.</summary>
    public double Total { get; }

    /// <summary>
    /// Each active scorer's part in the chosen endpoint's total; empty unless picked, and empty when the pick was made
    /// without its breakdown (<see cref="EndpointPicker.Pick(RoutingRequest, IReadOnlyList{RoutableEndpoint}, bool)"/>).
    /// </summary>
    public IReadOnlyList<EndpointScore> Scores => scores ?? [];

    public FilterCounts Counts { get; }

    internal static PickResult Picked(RoutableEndpoint endpoint, double total, IReadOnlyList<EndpointScore> scores, FilterCounts counts) =>
        new(PickOutcome.Picked, endpoint, total, scores, counts);

    internal static PickResult NotPicked(PickOutcome outcome, FilterCounts counts) =>
        new(outcome, null, 0, [], counts);

    public override string ToString() =>
        IsPicked ? $"{Endpoint.Id} ({Total:0.###}: {string.Join(", ", Scores.Select(s => $"{s.Scorer}={s.Score:0.###}x{s.Weight}"))})"
        : $"{Outcome} {Counts}";
}
