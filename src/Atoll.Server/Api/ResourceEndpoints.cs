using Atoll.Core.Contracts;
using Atoll.Core.Resources;
using Atoll.Providers;
using Atoll.Server.Auth;
using Atoll.Server.Fleet;
using Atoll.Storage.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Atoll.Server.Api;

/// <summary>
/// Kubernetes-style resources (Provider, GpuPool): apply (idempotent, with prune for GitOps), list, get, delete.
/// Specs are validated here, with field paths, including what only the server can check: that providers named by
/// pools exist and that credential references resolve on this server. Secrets are never stored or returned, only
/// their references.
/// </summary>
internal static class ResourceEndpoints
{
    public static void MapResourceEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/resources").RequireAuthorization(AuthPolicies.Admin);

        group.MapPost("/apply", async (HttpRequest http, IStateStore store, FleetReconciler reconciler, TimeProvider time, CancellationToken ct) =>
        {
            var (request, error) = await JsonBody.ReadAsync<ApplyRequest>(http, ct).ConfigureAwait(false);
            if (error is not null)
            {
                return error;
            }
            var documents = request!.Documents ?? [];
            if (documents.Count == 0)
            {
                return Problems.BadRequest("no documents to apply: send at least one resource (apiVersion, kind, metadata, spec)");
            }
            if (string.IsNullOrWhiteSpace(request.ApplySet))
            {
                return Problems.BadRequest("applySet is empty: name the set of resources these documents belong to (default \"default\")");
            }
            var errors = await ValidateAsync(documents, store, ct).ConfigureAwait(false);
            if (errors.Count > 0)
            {
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid resources",
                    detail: $"{errors.Count} problem(s) in the documents; nothing was applied",
                    extensions: new Dictionary<string, object?> { ["errors"] = errors });
            }
            var results = await store.Fleet.ApplyAsync(documents, request.ApplySet, request.Prune, request.DryRun, time.GetUtcNow(), ct).ConfigureAwait(false);
            if (!request.DryRun)
            {
                reconciler.Trigger();
            }
            return Results.Ok(new ApplyResult(results));
        });

        group.MapGet("/{kind}", async (string kind, IStateStore store, CancellationToken ct) =>
            Kind(kind) is { } k
                ? Results.Ok(new ItemList<ResourceDocument>(await store.Fleet.ListResourcesAsync(k, ct).ConfigureAwait(false)))
                : UnknownKind(kind));

        group.MapGet("/{kind}/{name}", async (string kind, string name, IStateStore store, CancellationToken ct) =>
        {
            if (Kind(kind) is not { } k)
            {
                return UnknownKind(kind);
            }
            return await store.Fleet.GetResourceAsync(k, name, ct).ConfigureAwait(false) is { } found
                ? Results.Ok(found)
                : Problems.NotFound($"{k} '{name}' not found");
        });

        group.MapDelete("/{kind}/{name}", async (string kind, string name, IStateStore store, FleetReconciler reconciler, CancellationToken ct) =>
        {
            if (Kind(kind) is not { } k)
            {
                return UnknownKind(kind);
            }
            if (!await store.Fleet.DeleteResourceAsync(k, name, ct).ConfigureAwait(false))
            {
                return Problems.NotFound($"{k} '{name}' not found");
            }
            reconciler.Trigger();
            return Results.NoContent();
        });
    }

    /// <summary>The canonical kind for what a person may type (<c>pools</c>, <c>gpupool</c>, <c>providers</c>, ...).</summary>
    public static string? Kind(string text) => text.ToLowerInvariant() switch
    {
        "provider" or "providers" => ResourceKinds.Provider,
        "gpupool" or "gpupools" or "pool" or "pools" => ResourceKinds.GpuPool,
        _ => null,
    };

    private static IResult UnknownKind(string kind) =>
        Problems.NotFound($"unknown resource kind '{kind}': use {string.Join(" or ", ResourceKinds.All)} (or providers, pools)");

    private static async Task<IReadOnlyList<ResourceError>> ValidateAsync(IReadOnlyList<ResourceDocument> documents, IStateStore store, CancellationToken ct)
    {
        var existing = (await store.Fleet.ListResourcesAsync(ResourceKinds.Provider, ct).ConfigureAwait(false))
            .Select(p => p.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        // Credential references must resolve here, on the server that will use them.
        return ResourceValidator.ValidateAll(documents, existing, reference =>
            SecretResolver.TryResolve(reference, out _, out var problem)
                ? null
                : problem + "; set it on the server, or point the reference at a file the server can read");
    }
}
