using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Atoll.Server.Observability;

/// <summary>Counts requests by route template (never by raw path, which would explode label cardinality).</summary>
internal sealed class HttpMetricsMiddleware(RequestDelegate next, ServerMetrics metrics)
{
    public async Task InvokeAsync(HttpContext context)
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
