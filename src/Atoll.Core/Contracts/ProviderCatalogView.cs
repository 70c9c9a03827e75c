namespace Atoll.Core.Contracts;

/// <summary>A provider's catalog state: <see cref="State"/> is <c>Ready</c>, <c>Unauthorized</c>, <c>Error</c> or <c>Unknown</c> (not fetched yet).</summary>
public sealed record ProviderCatalogView(string Name, string Type, string State, string? Message, int Offers, DateTimeOffset? RefreshedAt);
