namespace Atoll.Core.Fleet;

/// <summary>An instance as a provider reports it, mapped to Atoll's terms.</summary>
/// <param name="Id">The provider's instance id.</param>
/// <param name="Name">The name (or tag) Atoll gave it; see <see cref="InstanceNames"/>.</param>
/// <param name="State">The provider's status mapped to a <see cref="InstanceState"/>.</param>
/// <param name="RawStatus">The provider's own status word, for people.</param>
public sealed record CloudInstance(
    string Id,
    string Name,
    InstanceState State,
    string RawStatus,
    string? PublicIp,
    string? PrivateIp,
    string? Region,
    string? InstanceType,
    string? CapacityType);
