namespace Atoll.Core.Batch;

/// <summary>The inference endpoints a batch may target (the <c>endpoint</c> of a batch and the <c>url</c> of each line).</summary>
public static class BatchEndpoints
{
    public const string ChatCompletions = "/v1/chat/completions";
    public const string Completions = "/v1/completions";
    public const string Embeddings = "/v1/embeddings";

    public static IReadOnlyList<string> All { get; } = [ChatCompletions, Completions, Embeddings];

    /// <summary>True for the endpoints above, compared exactly (OpenAI's values are lower case with no trailing slash).</summary>
    public static bool IsSupported(string? endpoint) =>
        endpoint is ChatCompletions or Completions or Embeddings;
}
