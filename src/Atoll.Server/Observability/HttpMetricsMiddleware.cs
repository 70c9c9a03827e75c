using System.Diagnostics;
using Atoll.Server.Gateway;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Atoll.Server.Observability;

/// <summary>
/// Counts requests by route template (never by raw path, which would explode label cardinality). The gateway's
/// forwarded operations are counted by the gateway itself (atoll_gateway_requests_total), not here.
/// </summary>
internal sealed class HttpMetricsMiddleware(RequestDelegate next, ServerMetrics metrics)
{
    public Task InvokeAsync(HttpContext context) =>
        OpenAiGatewayMiddleware.TryGetRoute(context.Request, out _, out _) ? next(context) : CountAsync(context);

    private async Task CountAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
            metrics.HttpRequests.WithLabels(context.Request.Method, route, context.Response.StatusCode.ToString()).Inc();
            metrics.HttpDuration.WithLabels(route).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }
}
