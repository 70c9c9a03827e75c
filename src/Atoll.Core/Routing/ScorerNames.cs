namespace Atoll.Core.Routing;

/// <summary>Names of the built-in scorers, the keys of <see cref="PickerOptions.Weights"/>.</summary>
public static class ScorerNames
{
    public const string PrefixAffinity = "prefix";
    public const string QueueDepth = "queue";
    public const string InFlight = "inflight";
    public const string NetworkDistance = "distance";
}
