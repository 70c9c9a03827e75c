using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Atoll.Server.Gateway;

/// <summary>The OpenAI-compatible surface of the gateway: <c>/v1/...</c>.</summary>
internal static class OpenAiEndpoints
{
    /// <summary>Upstream paths, relative to a model server's base URL.</summary>
    public const string ChatCompletionsPath = "v1/chat/completions";

    public const string CompletionsPath = "v1/completions";

    public const string EmbeddingsPath = "v1/embeddings";

    /// <summary>
    /// Serves the forwarded operations ahead of the rest of the pipeline (see <see cref="OpenAiGatewayMiddleware"/>).
    /// Goes first, before routing; <see cref="MapOpenAiEndpoints"/> is still needed for the rest of /v1.
    /// </summary>
    public static IApplicationBuilder UseOpenAiGateway(this IApplicationBuilder app) => app.UseMiddleware<OpenAiGatewayMiddleware>();

    private static object Model(string id) => new { id, @object = "model", created = 0, owned_by = "atoll" };

    public static void MapOpenAiEndpoints(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").AllowAnonymous();
        v1.MapPost("/chat/completions", (HttpContext c, GatewayHandler h) => h.HandleAsync(c, GatewayRoute.ChatCompletions, ChatCompletionsPath));
        v1.MapPost("/completions", (HttpContext c, GatewayHandler h) => h.HandleAsync(c, GatewayRoute.Completions, CompletionsPath));
        v1.MapPost("/embeddings", (HttpContext c, GatewayHandler h) => h.HandleAsync(c, GatewayRoute.Embeddings, EmbeddingsPath));
        v1.MapGet("/models", async (HttpContext c, ApiKeyAuthenticator auth, EndpointRegistry registry) =>
        {
            if (await auth.RequireAsync(c).ConfigureAwait(false) is null)
            {
                return;
            }
            var data = registry.ServableModels().Select(Model);
            await c.Response.WriteAsJsonAsync(new { @object = "list", data }, c.RequestAborted).ConfigureAwait(false);
        });
        // The SDKs' models.retrieve; a catch-all, because model names may hold a '/' (org/model).
        v1.MapGet("/models/{**id}", async (string id, HttpContext c, ApiKeyAuthenticator auth, EndpointRegistry registry) =>
        {
            if (await auth.RequireAsync(c).ConfigureAwait(false) is null)
            {
                return;
            }
            // The path keeps an escaped '/' (%2F) as sent, and the SDKs escape it: org%2Fmodel is org/model.
            id = Uri.UnescapeDataString(id);
            if (!registry.ServableModels().Contains(id, StringComparer.Ordinal))
            {
                await OpenAiErrors.WriteAsync(c, 404, $"The model `{id}` does not exist or no node serves it now. See GET /v1/models.",
                    "invalid_request_error", "model_not_found", "model").ConfigureAwait(false);
                return;
            }
            await c.Response.WriteAsJsonAsync(Model(id), c.RequestAborted).ConfigureAwait(false);
        });
        // Anything else under /v1 answers in OpenAI's shape rather than an empty 404.
        v1.Map("/{**rest}", (HttpContext c) => OpenAiErrors.WriteAsync(c, 404,
            $"Unknown request URL: {c.Request.Method} {c.Request.Path}. The gateway serves POST /v1/chat/completions, POST /v1/completions, POST /v1/embeddings, GET /v1/models and the Files and Batches APIs (/v1/files, /v1/batches).",
            "invalid_request_error", "unknown_url"));
    }
}
