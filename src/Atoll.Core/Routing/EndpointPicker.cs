using System.Buffers;

namespace Atoll.Core.Routing;

/// <summary>
/// Picks an endpoint for a request: filter (model, node Ready, server healthy, not ejected, not already tried,
/// not saturated) → weighted sum of scorer scores → highest total, ties broken at random. Stateless apart from
/// recording the prompt's prefix in the <see cref="PrefixIndex"/> it was given; safe for concurrent requests.
/// </summary>
public sealed class EndpointPicker
{
    // Totals this close are a tie: sums of fractions are not exact.
    private const double TieTolerance = 1e-9;
    private const int StackScores = 512;

    private readonly IEndpointScorer[] scorers;
    private readonly double[] weights;
    private readonly TimeProvider time;
    private readonly PrefixIndex? prefixIndex;
    private readonly Random? random;

    /// <param name="prefixIndex">When given, each pick records the prompt's blocks as sent to the chosen endpoint.</param>
    /// <param name="random">For tie-breaks; <see cref="Random.Shared"/> when null. Used under a lock when given.</param>
    public EndpointPicker(
        IEnumerable<IEndpointScorer> scorers,
        PickerOptions options,
        TimeProvider time,
        PrefixIndex? prefixIndex = null,
        Random? random = null)
    {
        var errors = options.Validate().ToList();
        var all = scorers.ToList();
        var known = new HashSet<string>(all.Select(s => s.Name), StringComparer.OrdinalIgnoreCase);
        errors.AddRange(options.Weights.Keys.Where(k => !known.Contains(k))
            .Select(k => $"Weights:{k} names no scorer; known: {string.Join(", ", known)}."));
        if (errors.Count > 0)
            throw new ArgumentException(string.Join(" ", errors), nameof(options));

        var weightOf = new Dictionary<string, double>(options.Weights, StringComparer.OrdinalIgnoreCase);
        var active = all.Where(s => weightOf.GetValueOrDefault(s.Name, 1) > 0).ToArray();
        this.scorers = active;
        weights = [.. active.Select(s => weightOf.GetValueOrDefault(s.Name, 1))];
        this.time = time;
        this.prefixIndex = prefixIndex;
        this.random = random;
    }

    /// <summary>A picker with the four built-in scorers, configured by <paramref name="options"/>.</summary>
    public static EndpointPicker CreateDefault(PickerOptions options, PrefixIndex prefixIndex, TimeProvider time, Random? random = null) =>
        new(
            [
                new PrefixAffinityScorer(prefixIndex),
                new QueueDepthScorer(options.QueueStaleAfter),
                new InFlightScorer(),
                new NetworkDistanceScorer(options.DistanceHalfScoreRtt),
            ],
            options,
            time,
            prefixIndex,
            random);

    /// <summary>The scorers in use (weight above 0), in order.</summary>
    public IReadOnlyList<IEndpointScorer> Scorers => scorers;

    /// <summary>Picks an endpoint for <paramref name="request"/>, with each scorer's part in its total (<see cref="PickResult.Scores"/>).</summary>
    public PickResult Pick(RoutingRequest request, IReadOnlyList<RoutableEndpoint> endpoints) => Pick(request, endpoints, explain: true);

    /// <summary>
    /// Picks an endpoint for <paramref name="request"/>; with <paramref name="explain"/> false the result's
    /// <see cref="PickResult.Scores"/> stays empty (the same endpoint and total, without an array per pick), as the
    /// gateway picks for every request and reads only the endpoint.
    /// </summary>
    public PickResult Pick(RoutingRequest request, IReadOnlyList<RoutableEndpoint> endpoints, bool explain)
    {
        var now = time.GetUtcNow();
        // Runs per request: a handful of endpoints fit in a buffer on the stack, more borrow one from the pool.
        var small = default(CandidateBuffer);
        RoutableEndpoint[]? rented = endpoints.Count > CandidateBuffer.Size ? ArrayPool<RoutableEndpoint>.Shared.Rent(endpoints.Count) : null;
        var buffer = rented is null ? (Span<RoutableEndpoint>)small : rented;
        try
        {
            var counts = Filter(request, endpoints, now, buffer);
            if (counts.Candidates == 0)
                return PickResult.NotPicked(counts.Saturated > 0 ? PickOutcome.AllSaturated : PickOutcome.NoEndpoints, counts);

            var candidates = buffer[..counts.Candidates];
            var size = candidates.Length * scorers.Length;
            double[]? rentedScores = null;
            var scores = size <= StackScores ? stackalloc double[size] : (rentedScores = ArrayPool<double>.Shared.Rent(size)).AsSpan(0, size);
            try
            {
                var best = Score(request, new ScoringContext(now, candidates), scores, out var bestTotal);
                var chosen = candidates[best];
                var breakdown = explain ? new EndpointScore[scorers.Length] : [];
                for (var j = 0; j < breakdown.Length; j++)
                    breakdown[j] = new EndpointScore(scorers[j].Name, scores[(best * scorers.Length) + j], weights[j]);
                prefixIndex?.Record(chosen.Id, request.PrefixHashes);
                return PickResult.Picked(chosen, bestTotal, breakdown, counts);
            }
            finally
            {
                if (rentedScores is not null)
                    ArrayPool<double>.Shared.Return(rentedScores);
            }
        }
        finally
        {
            if (rented is not null)
                ArrayPool<RoutableEndpoint>.Shared.Return(rented, clearArray: true);
        }
    }

    private static FilterCounts Filter(RoutingRequest request, IReadOnlyList<RoutableEndpoint> endpoints, DateTimeOffset now, Span<RoutableEndpoint> candidates)
    {
        int serving = 0, notReady = 0, unhealthy = 0, ejected = 0, excluded = 0, saturated = 0, n = 0;
        for (var i = 0; i < endpoints.Count; i++)
        {
            var e = endpoints[i];
            if (!string.Equals(e.Model, request.Model, StringComparison.Ordinal))
                continue;
            serving++;
            if (!e.NodeReady)
                notReady++;
            else if (!e.ServerHealthy)
                unhealthy++;
            else if (e.Health.IsEjected(now))
                ejected++;
            else if (request.IsExcluded(e.Id))
                excluded++;
            else if (e.IsSaturated)
                saturated++;
            else
                candidates[n++] = e;
        }
        return new FilterCounts(serving, notReady, unhealthy, ejected, excluded, saturated, n);
    }

    /// <summary>Fills <paramref name="scores"/> (candidate-major) and returns the index of the winner.</summary>
    private int Score(RoutingRequest request, ScoringContext context, Span<double> scores, out double bestTotal)
    {
        var candidates = context.Candidates;
        var best = -1;
        var ties = 0;
        bestTotal = double.NegativeInfinity;
        for (var i = 0; i < candidates.Length; i++)
        {
            var total = 0.0;
            for (var j = 0; j < scorers.Length; j++)
            {
                var s = scorers[j].Score(request, candidates[i], context);
                s = double.IsNaN(s) ? 0 : Math.Clamp(s, 0, 1);
                scores[(i * scorers.Length) + j] = s;
                total += weights[j] * s;
            }
            if (total > bestTotal + TieTolerance)
            {
                best = i;
                bestTotal = total;
                ties = 1;
            }
            else if (total >= bestTotal - TieTolerance && NextInt(++ties) == 0)
            {
                // Reservoir sampling: each of the k tied candidates ends up chosen with probability 1/k.
                best = i;
                bestTotal = total;
            }
        }
        return best;
    }

    /// <summary>Room for the candidates of a pick among a few endpoints, on the stack.</summary>
    [System.Runtime.CompilerServices.InlineArray(Size)]
    private struct CandidateBuffer
    {
        public const int Size = 8;

        private RoutableEndpoint element;
    }

    private int NextInt(int exclusiveMax)
    {
        if (random is null)
            return Random.Shared.Next(exclusiveMax);
        lock (random)
            return random.Next(exclusiveMax);
    }
}
