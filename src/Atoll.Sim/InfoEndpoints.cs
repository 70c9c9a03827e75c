using Microsoft.AspNetCore.Http;

namespace Atoll.Sim;

/// <summary><c>GET /v1/models</c>, <c>GET /health</c> and <c>GET /metrics</c>.</summary>
internal sealed class InfoEndpoints(SimRuntime sim)
{
    private readonly long created = sim.Time.GetUtcNow().ToUnixTimeSeconds();

    public Task ModelsAsync(HttpContext ctx) =>
        JsonResponse.WriteAsync(ctx, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            w.WriteStartObject();
            w.WriteString("id", sim.Options.Model);
            w.WriteString("object", "model");
            w.WriteNumber("created", created);
            w.WriteString("owned_by", "atoll-sim");
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }, ctx.RequestAborted);

    /// <summary>Like vLLM: 200 with an empty body when ready; 503 while starting.</summary>
    public Task HealthAsync(HttpContext ctx)
    {
        if (sim.IsReady)
        {
            ctx.Response.StatusCode = StatusCodes.Status200OK;
            return Task.CompletedTask;
        }
        ctx.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        return ctx.Response.WriteAsync("starting\n", ctx.RequestAborted);
    }

    public Task MetricsAsync(HttpContext ctx)
    {
        ctx.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        var text = sim.Metrics.Render(sim.Options.Model, sim.Scheduler.Running, sim.Scheduler.Waiting, sim.Scheduler.KvUsage,
            sim.Options.PrefixCacheBlocks, TextGenerator.CountTokens(SimOptions.PrefixBlockChars));
        return ctx.Response.WriteAsync(text, ctx.RequestAborted);
    }
}
