namespace Atoll.Core.Fleet;

/// <summary>What a provider adapter needs to create one instance for a claim.</summary>
/// <param name="InstanceName">The name to give the instance (from <see cref="InstanceNames.For"/>); adapters also put it in tags or labels where the API has them.</param>
/// <param name="Offer">The chosen offer (instance type, region, capacity type).</param>
/// <param name="Bootstrap">The claim's bootstrap in every form the providers accept.</param>
/// <param name="Tags">Extra tags or labels (<c>atoll.dev/claim</c>, <c>atoll.dev/cluster</c>, <c>atoll.dev/pool</c>), where the API has them.</param>
public sealed record LaunchRequest(
    string InstanceName,
    Offer Offer,
    BootstrapBundle Bootstrap,
    IReadOnlyDictionary<string, string> Tags);
