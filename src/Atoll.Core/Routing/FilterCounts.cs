namespace Atoll.Core.Routing;

/// <summary>
/// How the endpoints serving the model fared in the filters, for error messages and debugging. Each endpoint is
/// counted under the first filter it failed, in the order of the properties.
/// </summary>
public readonly record struct FilterCounts(
    int ServingModel,
    int NotReady,
    int Unhealthy,
    int Ejected,
    int Excluded,
    int Saturated,
    int Candidates);
