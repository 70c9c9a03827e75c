using Atoll.Core.Fleet;

namespace Atoll.Providers;

/// <summary>
/// One account at one cloud (or one set of own machines), in Atoll's terms. Every method throws
/// <see cref="ProviderException"/> with a typed <see cref="ProviderErrorReason"/> on failure; transient failures and
/// rate limits are retried inside the adapter (with backoff) before they surface.
/// </summary>
public interface ICloudProvider
{
    /// <summary>The <c>Provider</c> resource's name (offers carry it).</summary>
    string Name { get; }

    /// <summary>One of <c>ProviderTypes.All</c>.</summary>
    string Type { get; }

    /// <summary>True when <see cref="RebootAsync"/> is supported.</summary>
    bool CanReboot { get; }

    /// <summary>The catalog now: one <see cref="Offer"/> per instance type, region and capacity type, with availability.</summary>
    Task<IReadOnlyList<Offer>> GetOffersAsync(CancellationToken ct);

    /// <summary>Creates one instance; returns it as known right after the create (usually Pending, maybe without an IP).</summary>
    Task<CloudInstance> CreateAsync(LaunchRequest request, CancellationToken ct);

    /// <summary>The instance, or null when the provider no longer knows it.</summary>
    Task<CloudInstance?> GetAsync(string instanceId, CancellationToken ct);

    /// <summary>Instances Atoll created in this account (those named with <see cref="InstanceNames.Prefix"/>), any cluster.</summary>
    Task<IReadOnlyList<CloudInstance>> ListAsync(CancellationToken ct);

    /// <summary>Terminates the instance; succeeds when it is already gone.</summary>
    Task DeleteAsync(string instanceId, CancellationToken ct);

    /// <summary>Reboots the instance; throws <see cref="NotSupportedException"/> when <see cref="CanReboot"/> is false.</summary>
    Task RebootAsync(string instanceId, CancellationToken ct);
}
