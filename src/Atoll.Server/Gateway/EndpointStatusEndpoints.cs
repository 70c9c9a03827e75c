using Atoll.Core.Routing;
using Atoll.Server.Api;
using Atoll.Server.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Atoll.Server.Gateway;

/// <summary>
/// The gateway's endpoints for admins (<c>atoll endpoints</c>): which take traffic, and why the others do not. The
/// node registry says what nodes report; this says what the gateway makes of it (probes, ejections, load).
/// </summary>
internal static class EndpointStatusEndpoints
{
    public static void MapEndpointStatusEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/endpoints").RequireAuthorization(AuthPolicies.Admin);

        group.MapGet("/", (string? model, EndpointRegistry registry, TimeProvider time) =>
        {
            var now = time.GetUtcNow();
            var items = registry.All
                .Where(e => model is null || string.Equals(e.Model, model, StringComparison.Ordinal))
                .Select(e => EndpointStatus.Of(e, now))
                .OrderBy(v => v.Model, StringComparer.Ordinal)
                .ThenBy(v => v.Name, StringComparer.Ordinal)
                .ToList();
            return Results.Ok(new { items });
        });

        // Names hold slashes (node/model), so the rest of the path is the name.
        group.MapGet("/{**name}", (string name, EndpointRegistry registry, TimeProvider time) =>
        {
            name = Uri.UnescapeDataString(name);
            return registry.All.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.Ordinal)) is { } endpoint
                ? Results.Ok(EndpointStatus.Of(endpoint, time.GetUtcNow()))
                : Problems.NotFound($"endpoint '{name}' not found; list endpoints with `atoll endpoints`");
        });
    }
}
