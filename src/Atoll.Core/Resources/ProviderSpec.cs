namespace Atoll.Core.Resources;

/// <summary>The <c>spec</c> of a <c>Provider</c> resource: one account at one cloud (or a set of own machines).</summary>
/// <param name="Type">One of <see cref="ProviderTypes.All"/>.</param>
/// <param name="Credentials">Named secret references: <c>apiKey</c> (lambda, voltagepark, tensordock, hetzner), <c>clientId</c> and <c>clientSecret</c> (verda), <c>privateKey</c> (ssh).</param>
/// <param name="Regions">Regions (locations) this account may use; empty = all the provider offers.</param>
/// <param name="BaseUrl">Overrides the API's base URL (tests, proxies).</param>
/// <param name="SshKeys">Names or ids of SSH keys registered at the provider, added to new instances.</param>
/// <param name="Image">OS image for new instances, where the provider asks for one.</param>
/// <param name="Hosts">Machines of an <c>ssh</c> provider.</param>
/// <param name="Local">Settings of the <c>local</c> provider.</param>
/// <param name="Settings">Provider-specific extras, documented per adapter.</param>
public sealed record ProviderSpec(
    string Type,
    IReadOnlyDictionary<string, SecretRef>? Credentials = null,
    IReadOnlyList<string>? Regions = null,
    string? BaseUrl = null,
    IReadOnlyList<string>? SshKeys = null,
    string? Image = null,
    IReadOnlyList<SshHostSpec>? Hosts = null,
    LocalProviderSpec? Local = null,
    IReadOnlyDictionary<string, string>? Settings = null);
