using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Atoll.Sim;

/// <summary>The vLLM metrics a router scrapes (same names and label), plus the simulator's own request counters.</summary>
internal sealed class SimMetrics
{
    // Bucket bounds as vLLM declares them.
    private static readonly double[] TtftBounds = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];
    private static readonly double[] ItlBounds = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
    private static readonly double[] RequestBounds = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960];

    private readonly ConcurrentDictionary<string, long> requestsByStatus = new();
    private long prefixQueries;
    private long prefixHits;
    private long promptTokens;
    private long generationTokens;
    private long cancelled;

    public Histogram TimeToFirstToken { get; } = new("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", TtftBounds);
    public Histogram InterTokenLatency { get; } = new("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", ItlBounds);
    public Histogram EndToEnd { get; } = new("vllm:e2e_request_latency_seconds", "Histogram of end to end request latency in seconds.", RequestBounds);
    public Histogram QueueTime { get; } = new("vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", RequestBounds);

    public void PrefixQueried(int queriedTokens, int hitTokens)
    {
        Interlocked.Add(ref prefixQueries, queriedTokens);
        Interlocked.Add(ref prefixHits, hitTokens);
        Interlocked.Add(ref promptTokens, queriedTokens);
    }

    public void TokenGenerated() => Interlocked.Increment(ref generationTokens);

    public void RequestEnded(string status) => requestsByStatus.AddOrUpdate(status, 1, (_, n) => n + 1);

    public void RequestCancelled() => Interlocked.Increment(ref cancelled);

    public string Render(string model, int running, int waiting, double kvUsage, int cacheBlocks, int cacheBlockTokens)
    {
        var labels = $"model_name=\"{Escape(model)}\"";
        var text = new StringBuilder(8192);
        Gauge(text, "vllm:num_requests_running", "Number of requests in model execution batches.", labels, running);
        Gauge(text, "vllm:num_requests_waiting", "Number of requests waiting to be processed.", labels, waiting);
        Gauge(text, "vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", labels, kvUsage);
        if (cacheBlocks > 0)
        {
            // As vLLM: an info gauge whose labels carry the cache configuration (blocks of about 16 tokens).
            text.Append("# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig\n# TYPE vllm:cache_config_info gauge\n")
                .Append("vllm:cache_config_info{block_size=\"").Append(cacheBlockTokens).Append("\",enable_prefix_caching=\"True\",num_gpu_blocks=\"")
                .Append(cacheBlocks).Append("\"} 1.0\n");
        }
        Counter(text, "vllm:prefix_cache_queries_total", "Prefix cache queries, in terms of number of queried tokens.", labels, Interlocked.Read(ref prefixQueries));
        Counter(text, "vllm:prefix_cache_hits_total", "Prefix cache hits, in terms of number of cached tokens.", labels, Interlocked.Read(ref prefixHits));
        Counter(text, "vllm:prompt_tokens_total", "Number of prefill tokens processed.", labels, Interlocked.Read(ref promptTokens));
        Counter(text, "vllm:generation_tokens_total", "Number of generation tokens processed.", labels, Interlocked.Read(ref generationTokens));
        TimeToFirstToken.Write(text, labels);
        InterTokenLatency.Write(text, labels);
        EndToEnd.Write(text, labels);
        QueueTime.Write(text, labels);

        text.Append("# HELP atoll_sim_requests_total OpenAI API requests by outcome: HTTP status, aborted (injected connection drop) or cancelled (client went away).\n");
        text.Append("# TYPE atoll_sim_requests_total counter\n");
        foreach (var (status, n) in requestsByStatus.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            text.Append("atoll_sim_requests_total{").Append(labels).Append(",status=\"").Append(Escape(status)).Append("\"} ").Append(n).Append('\n');
        }
        Counter(text, "atoll_sim_requests_cancelled_total", "Requests whose client went away before the answer was complete.", labels, Interlocked.Read(ref cancelled));
        return text.ToString();
    }

    private static void Gauge(StringBuilder text, string name, string help, string labels, double value) =>
        Sample(text, name, help, "gauge", labels, value.ToString(CultureInfo.InvariantCulture));

    private static void Counter(StringBuilder text, string name, string help, string labels, long value) =>
        Sample(text, name, help, "counter", labels, value.ToString(CultureInfo.InvariantCulture));

    private static void Sample(StringBuilder text, string name, string help, string type, string labels, string value) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
            .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n')
            .Append(name).Append('{').Append(labels).Append("} ").Append(value).Append('\n');

    private static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
