namespace Atoll.Server.Gateway;

/// <summary>The OpenAI operations the gateway forwards.</summary>
internal enum GatewayRoute
{
    ChatCompletions,
    Completions,
    Embeddings,
}
