namespace Atoll.Agent.BatchWorker;

/// <summary>
/// URLs on a node's local model server. A model's URL is an OpenAI-compatible base, with or without the
/// <c>/v1</c> (http://127.0.0.1:8000 or http://127.0.0.1:8000/v1); batch endpoints already start with <c>/v1</c>.
/// </summary>
internal static class ModelUrls
{
    /// <summary>The server root: the URL without a trailing slash and without a trailing <c>/v1</c>.</summary>
    public static string Root(string modelUrl)
    {
        var root = modelUrl.TrimEnd('/');
        if (root.EndsWith("/v1", StringComparison.OrdinalIgnoreCase))
        {
            root = root[..^3];
        }
        return root;
    }

    /// <summary>Where to send a batch line, e.g. <c>Endpoint("http://h:8000/v1", "/v1/chat/completions")</c> → http://h:8000/v1/chat/completions.</summary>
    public static Uri Endpoint(string modelUrl, string endpoint) =>
        new(Root(modelUrl) + "/" + endpoint.TrimStart('/'));

    /// <summary>vLLM's Prometheus metrics, served at the root rather than under <c>/v1</c>.</summary>
    public static Uri Metrics(string modelUrl) => new(Root(modelUrl) + "/metrics");
}
