using Atoll.Server.Auth;
using Atoll.Storage.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Atoll.Server.Api;

/// <summary>The node registry for admins: list, describe, delete (which revokes the node's credential).</summary>
internal static class NodeEndpoints
{
    public static void MapNodeEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/nodes").RequireAuthorization(AuthPolicies.Admin);

        group.MapGet("/", async (IStateStore store, CancellationToken ct) =>
            Results.Ok(new { items = await store.ListNodesAsync(ct).ConfigureAwait(false) }));

        group.MapGet("/{name}", async (string name, IStateStore store, CancellationToken ct) =>
            await store.GetNodeAsync(name, ct).ConfigureAwait(false) is { } node
                ? Results.Ok(node)
                : Problems.NotFound($"node '{name}' not found; list nodes with `atoll nodes`"));

        group.MapDelete("/{name}", async (string name, IStateStore store, ILoggerFactory logs, CancellationToken ct) =>
        {
            if (!await store.DeleteNodeAsync(name, ct).ConfigureAwait(false))
            {
                return Problems.NotFound($"node '{name}' not found; list nodes with `atoll nodes`");
            }
            logs.CreateLogger("Atoll.Server.Nodes").LogInformation("Deleted node {Node} and revoked its credential", name);
            return Results.NoContent();
        });
    }
}
