using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Atoll.Server.Gateway;

/// <summary>The OpenAI-compatible surface of the gateway: <c>/v1/...</c>.</summary>
internal static class OpenAiEndpoints
{
    public static void MapOpenAiEndpoints(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").AllowAnonymous();
        v1.MapPost("/chat/completions", (HttpContext c, GatewayHandler h) => h.HandleAsync(c, GatewayRoute.ChatCompletions, "v1/chat/completions"));
        v1.MapPost("/completions", (HttpContext c, GatewayHandler h) => h.HandleAsync(c, GatewayRoute.Completions, "v1/completions"));
        v1.MapPost("/embeddings", (HttpContext c, GatewayHandler h) => h.HandleAsync(c, GatewayRoute.Embeddings, "v1/embeddings"));
        v1.MapGet("/models", async (HttpContext c, ApiKeyAuthenticator auth, EndpointRegistry registry) =>
        {
            if (await auth.RequireAsync(c).ConfigureAwait(false) is null)
            {
                return;
            }
            var data = registry.ServableModels().Select(m => new { id = m, @object = "model", created = 0, owned_by = "atoll" });
            await c.Response.WriteAsJsonAsync(new { @object = "list", data }, c.RequestAborted).ConfigureAwait(false);
        });
        // Anything else under /v1 answers in OpenAI's shape rather than an empty 404.
        v1.Map("/{**rest}", (HttpContext c) => OpenAiErrors.WriteAsync(c, 404,
            $"Unknown request URL: {c.Request.Method} {c.Request.Path}. The gateway serves /v1/chat/completions, /v1/completions, /v1/embeddings and /v1/models.",
            "invalid_request_error", "unknown_url"));
    }
}
