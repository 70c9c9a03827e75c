namespace Atoll.Core.Routing;

/// <summary>One scorer's part in a pick: its 0..1 score and the weight it was given.</summary>
public readonly record struct EndpointScore(string Scorer, double Score, double Weight)
{
    public double Weighted => Score * Weight;
}
