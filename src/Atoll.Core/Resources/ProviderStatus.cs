namespace Atoll.Core.Resources;

/// <summary>The <c>status</c> the server writes on a Provider: <see cref="State"/> is <c>Ready</c>, <c>Unauthorized</c>, <c>Error</c> or <c>Unknown</c>.</summary>
public sealed record ProviderStatus(string State, string? Message, int Offers, DateTimeOffset? RefreshedAt, int Instances);
