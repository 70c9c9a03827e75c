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
    int Candidates)
{
    /// <summary>For people: "2 endpoints: 1 not ready, 1 ejected" (only the filters that removed something).</summary>
    public string Describe()
    {
        if (ServingModel == 0)
        {
            return "no endpoint serves it";
        }
        var parts = new List<string>(6);
        Add(parts, NotReady, "not ready");
        Add(parts, Unhealthy, "unhealthy");
        Add(parts, Ejected, "ejected after failures");
        Add(parts, Excluded, "already tried");
        Add(parts, Saturated, "busy");
        Add(parts, Candidates, "available");
        var total = ServingModel == 1 ? "1 endpoint" : $"{ServingModel} endpoints";
        return parts.Count == 0 ? total : $"{total}: {string.Join(", ", parts)}";
    }

    private static void Add(List<string> parts, int count, string what)
    {
        if (count > 0)
        {
            parts.Add($"{count} {what}");
        }
    }
}
