using System.Diagnostics;
using System.Globalization;
using Atoll.Core.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atoll.Server.Gateway;

/// <summary>
/// Active health checks: probes each endpoint's <c>/health</c> (which also measures RTT) and scrapes the vLLM
/// queue gauges and KV-cache size (<c>vllm:cache_config_info</c>, which sizes the endpoint's prefix history) from
/// <c>/metrics</c>. New endpoints get traffic only after their first passing probe; a probe
/// that passes again after failures ends a passive ejection.
/// </summary>
internal sealed class EndpointProber(
    EndpointRegistry registry, UpstreamClients clients, PrefixIndex prefixes, IOptions<GatewayOptions> options, TimeProvider time,
    ILogger<EndpointProber> logger)
    : BackgroundService
{
    public Task ProbeAllOnceAsync(CancellationToken ct) =>
        Parallel.ForEachAsync(registry.All, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = ct }, ProbeAsync);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ProbeInterval, time);
        do
        {
            try
            {
                await ProbeAllOnceAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning("Endpoint probe pass failed: {Error}", e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private async ValueTask ProbeAsync(RoutableEndpoint endpoint, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        var started = Stopwatch.GetTimestamp();
        bool healthy;
        string? problem = null;
        try
        {
            // The status is the answer; its body is not read.
            using var response = await clients.Probe.GetAsync(new Uri(endpoint.Url, "health"), HttpCompletionOption.ResponseHeadersRead, timeout.Token)
                .ConfigureAwait(false);
            healthy = response.IsSuccessStatusCode;
            problem = healthy ? null : $"GET /health answered {(int)response.StatusCode}";
            endpoint.ReportRtt(Stopwatch.GetElapsedTime(started));
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            healthy = false;
            problem = "GET /health gave no answer within 2s";
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // Whatever one model server answers stays its own failure: an exception out of here would stop the probe
            // pass of every endpoint (Parallel.ForEachAsync cancels the others), every second.
            healthy = false;
            problem = $"GET /health failed: {e.Message}";
        }
        var was = endpoint.ServerHealthy;
        endpoint.ReportProbe(healthy, problem);
        if (was != healthy)
        {
            logger.Log(healthy ? LogLevel.Information : LogLevel.Warning, "Endpoint {Endpoint} is {State}", endpoint.Id,
                healthy ? "healthy" : $"failing its health probe ({problem})");
        }
        if (!healthy)
        {
            return;
        }
        try
        {
            var text = await clients.Probe.GetStringAsync(new Uri(endpoint.Url, "metrics"), timeout.Token).ConfigureAwait(false);
            if (Gauge(text, "vllm:num_requests_waiting") is { } waiting)
            {
                endpoint.ReportQueue((int)waiting, (int)(Gauge(text, "vllm:num_requests_running") ?? 0), time.GetUtcNow());
            }
            if (CacheTokens(text) is { } tokens)
            {
                // Same size every probe: resizing to it is a no-op, and only a change is logged.
                var before = prefixes.Capacity(endpoint.Id);
                var blocks = prefixes.SetCapacity(endpoint.Id, tokens / PrefixHasher.TokensPerBlock);
                if (blocks != before)
                {
                    logger.LogInformation("Endpoint {Endpoint} caches about {Tokens} prompt tokens; the gateway remembers {Blocks} prompt blocks sent there",
                        endpoint.Id, tokens, blocks);
                }
            }
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            // No metrics (not every server has them), or none that can be read (over the probe client's size limit, an
            // unknown charset): the queue scorer stays neutral, and the other endpoints' probes go on.
        }
    }

    /// <summary>
    /// The server's KV-cache size in tokens from vLLM's <c>vllm:cache_config_info{block_size="16",num_gpu_blocks="N",…} 1</c>;
    /// null when absent, incomplete or prefix caching is off.
    /// </summary>
    internal static long? CacheTokens(string text)
    {
        const string Name = "vllm:cache_config_info{";
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (!line.StartsWith(Name))
            {
                continue;
            }
            var close = line.IndexOf('}');
            if (close < 0)
            {
                return null;
            }
            var labels = line[Name.Length..close];
            if (Label(labels, "enable_prefix_caching") is { } enabled && enabled.Equals("False", StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }
            return long.TryParse(Label(labels, "block_size"), NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size > 0
                && long.TryParse(Label(labels, "num_gpu_blocks"), NumberStyles.None, CultureInfo.InvariantCulture, out var blocks) && blocks > 0
                ? size * blocks
                : null;
        }
        return null;
    }

    /// <summary>A label's value in <c>a="1",b="2"</c> (values without escapes, as vLLM's numbers and flags are).</summary>
    private static string? Label(ReadOnlySpan<char> labels, string name)
    {
        while (!labels.IsEmpty)
        {
            var eq = labels.IndexOf("=\"");
            if (eq < 0)
            {
                return null;
            }
            var key = labels[..eq].Trim().TrimStart(',').Trim();
            var rest = labels[(eq + 2)..];
            var end = rest.IndexOf('"');
            if (end < 0)
            {
                return null;
            }
            if (key.SequenceEqual(name))
            {
                return rest[..end].ToString();
            }
            labels = rest[(end + 1)..];
        }
        return null;
    }

    /// <summary>Sum of a gauge over its label sets in Prometheus text; null when absent.</summary>
    internal static double? Gauge(string text, string name)
    {
        double? sum = null;
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (!line.StartsWith(name) || line.Length == name.Length || (line[name.Length] != '{' && line[name.Length] != ' '))
            {
                continue;
            }
            var value = line[(line.LastIndexOf(' ') + 1)..];
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
            {
                sum = (sum ?? 0) + v;
            }
        }
        return sum;
    }
}
