using Atoll.Core.Fleet;

namespace Atoll.Core.Contracts;

/// <summary><c>GET /api/v1/offers</c>: offers across providers sorted by price per GPU-hour, and each provider's catalog state.</summary>
public sealed record OfferList(IReadOnlyList<Offer> Items, IReadOnlyList<ProviderCatalogView> Providers);
