using Atoll.Core.Resources;
using Atoll.Providers;

namespace Atoll.Server.Fleet;

/// <summary>A Provider resource as the server runs it: its adapter, or why there is none (e.g. a credential that does not resolve).</summary>
internal sealed record ProviderEntry(string Name, string Type, long Generation, ProviderSpec? Spec, ICloudProvider? Provider, string? Error);
