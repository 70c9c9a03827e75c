using Microsoft.AspNetCore.Http;

namespace Atoll.Server.Gateway;

/// <summary>
/// Hands the three forwarded OpenAI operations (POST /v1/chat/completions, /v1/completions, /v1/embeddings) to the
/// gateway before routing, status-code pages, HTTP metrics and the control API's authentication run: the gateway
/// checks its own API keys, answers every error with a body in OpenAI's shape and keeps its own metrics, so those
/// steps only cost time per request. Any other request, including these paths spelled another way, goes on down
/// the pipeline, where the same operations are mapped as endpoints too.
/// </summary>
internal sealed class OpenAiGatewayMiddleware(RequestDelegate next, GatewayHandler handler)
{
    public Task InvokeAsync(HttpContext context) =>
        TryGetRoute(context.Request, out var route, out var upstreamPath) ? handler.HandleAsync(context, route, upstreamPath) : next(context);

    /// <summary>Whether the request is one the gateway forwards, and which: its route and upstream path.</summary>
    public static bool TryGetRoute(HttpRequest request, out GatewayRoute route, out string upstreamPath)
    {
        (route, upstreamPath) = HttpMethods.IsPost(request.Method)
            ? request.Path.Value switch
            {
                "/v1/chat/completions" => (GatewayRoute.ChatCompletions, OpenAiEndpoints.ChatCompletionsPath),
                "/v1/completions" => (GatewayRoute.Completions, OpenAiEndpoints.CompletionsPath),
                "/v1/embeddings" => (GatewayRoute.Embeddings, OpenAiEndpoints.EmbeddingsPath),
                _ => (default, ""),
            }
            : (default, "");
        return upstreamPath.Length > 0;
    }
}
