using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Server.Auth;
using Atoll.Server.Fleet;
using Atoll.Storage.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Atoll.Server.Api;

/// <summary>What provisioning did and can do: node claims (with the offers each tried), offers across providers, cost.</summary>
internal static class FleetEndpoints
{
    public static void MapFleetEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1").RequireAuthorization(AuthPolicies.Admin);

        group.MapGet("/claims", async (string? pool, bool? all, IStateStore store, CancellationToken ct) =>
            Results.Ok(new ItemList<NodeClaim>(await store.Fleet.ListClaimsAsync(pool, all ?? false, ct).ConfigureAwait(false))));

        group.MapGet("/claims/{name}", async (string name, IStateStore store, CancellationToken ct) =>
            await store.Fleet.GetClaimAsync(name, ct).ConfigureAwait(false) is { } claim
                ? Results.Ok(claim)
                : Problems.NotFound($"claim '{name}' not found (terminated claims are kept for a day)"));

        group.MapGet("/offers", async (
            string? gpu, int? count, bool? spot, string? provider, string? region, bool? refresh,
            FleetReconciler reconciler, ProviderRegistry registry, OfferCatalog catalog, CancellationToken ct) =>
        {
            if (refresh == true || registry.Entries.Count == 0 || registry.Entries.Any(e => catalog.View(e).State == "Unknown"))
            {
                await reconciler.RefreshOffersAsync(ct).ConfigureAwait(false);
            }
            var model = gpu is null ? null : GpuModels.Normalize(gpu) ?? gpu;
            var offers = catalog.Offers
                .Where(o => model is null || string.Equals(o.GpuModel, model, StringComparison.OrdinalIgnoreCase))
                .Where(o => count is null || o.GpuCount == count)
                .Where(o => spot != true || o.CapacityType == CapacityTypes.Spot)
                .Where(o => provider is null || o.Provider == provider)
                .Where(o => region is null || o.Region == region)
                .OrderBy(o => o.PricePerGpuHour).ThenBy(o => o.Key, StringComparer.Ordinal)
                .ToList();
            return Results.Ok(new OfferList(offers, registry.Entries.Select(catalog.View).ToList()));
        });

        group.MapGet("/cost", async (IStateStore store, CancellationToken ct) =>
            Results.Ok(CostCalculator.Report(await store.Fleet.ListClaimsAsync(null, false, ct).ConfigureAwait(false))));
    }
}
