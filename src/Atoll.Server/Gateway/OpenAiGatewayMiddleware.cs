using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Atoll.Server.Gateway;

/// <summary>
/// Hands the three forwarded OpenAI operations (POST /v1/chat/completions, /v1/completions, /v1/embeddings) to the
/// gateway before routing, status-code pages, HTTP metrics and the control API's authentication run: the gateway
/// checks its own API keys, answers every error with a body in OpenAI's shape and keeps its own metrics, so those
/// steps only cost time per request. Any other request, including these paths spelled another way, goes on down
/// the pipeline, where the same operations are mapped as endpoints too.
/// <para>
/// With <see cref="GatewayOptions.InlineIo"/>, an HTTP/1.1 connection that carries a forwarded request is switched
/// to complete its I/O on the socket event thread, and switched back, off that thread, before any other request
/// on it runs: the control API may block (SQLite, file uploads), the gateway's path does not.
/// </para>
/// </summary>
internal sealed class OpenAiGatewayMiddleware(RequestDelegate next, GatewayHandler handler, IOptions<GatewayOptions> options)
{
    private readonly bool inlineIo = options.Value.InlineIo;

    public Task InvokeAsync(HttpContext context)
    {
        if (TryGetRoute(context.Request, out var route, out var upstreamPath))
        {
            if (inlineIo && HttpProtocol.IsHttp11(context.Request.Protocol))
            {
                SwitchSocket(context, inline: true);
            }
            return handler.HandleAsync(context, route, upstreamPath);
        }
        return inlineIo ? OffEventThreadAsync(context) : next(context);
    }

    private async Task OffEventThreadAsync(HttpContext context)
    {
        SwitchSocket(context, inline: false);
        await InlineIo.LeaveEventThread();
        await next(context).ConfigureAwait(false);
    }

    private static void SwitchSocket(HttpContext context, bool inline) => InlineIo.TrySet(context.Features, inline);

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
