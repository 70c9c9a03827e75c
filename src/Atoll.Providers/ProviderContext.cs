using Atoll.Core.Resources;
using Atoll.Providers.Http;
using Microsoft.Extensions.Logging;

namespace Atoll.Providers;

/// <summary>Everything an adapter is built from: the resource, its resolved secrets, and the shared plumbing.</summary>
/// <param name="Name">The Provider resource's name.</param>
/// <param name="Secrets">The spec's credentials, resolved by <see cref="SecretResolver"/> (never logged).</param>
/// <param name="ClusterId">This Atoll cluster's id, part of every instance name (see <c>InstanceNames</c>).</param>
public sealed record ProviderContext(
    string Name,
    ProviderSpec Spec,
    IReadOnlyDictionary<string, string> Secrets,
    string ClusterId,
    HttpClient Http,
    TimeProvider Time,
    ILoggerFactory Logging,
    ProviderHttpOptions? HttpOptions = null)
{
    /// <summary>The named secret; throws <see cref="ProviderException"/> (Unauthorized) naming the missing key.</summary>
    public string Secret(string key) =>
        Secrets.TryGetValue(key, out var value) && !string.IsNullOrEmpty(value)
            ? value
            : throw new ProviderException(Core.Fleet.ProviderErrorReason.Unauthorized, $"provider {Name}: credentials.{key} is not set");

    /// <summary>The API base: the spec's override or the adapter's default, always ending in '/'.</summary>
    public Uri BaseUri(string defaultBase) => new((Spec.BaseUrl ?? defaultBase).TrimEnd('/') + "/");
}
