using Atoll.Server.Observability;
using Atoll.Storage.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Prometheus;

namespace Atoll.Server.Api;

/// <summary>Unauthenticated probes: /healthz (process up), /readyz (store reachable), /metrics (Prometheus).</summary>
internal static class HealthEndpoints
{
    public static void MapHealthEndpoints(this IEndpointRouteBuilder app, ServerMetrics metrics)
    {
        app.MapGet("/healthz", () => Results.Text("ok\n")).AllowAnonymous();

        app.MapGet("/readyz", async (IStateStore store, CancellationToken ct) =>
        {
            try
            {
                await store.PingAsync(ct).ConfigureAwait(false);
                return Results.Text("ok\n");
            }
            catch (StoreUnavailableException e)
            {
                return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Store unavailable", detail: e.Message);
            }
        }).AllowAnonymous();

        app.MapMetrics("/metrics", metrics.Registry).AllowAnonymous();
    }
}
