using System.Net;
using System.Net.Sockets;

namespace Atoll.Sim.Tests;

public class HealthAndInstanceTests
{
    [Fact]
    public async Task An_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout_as_vllm_does()
    {
        var options = SimHost.Instant();
        options.KeepAliveTimeout = TimeSpan.FromSeconds(1);
        await using var sim = await SimHost.StartAsync(options);
        using var client = new TcpClient();
        await client.ConnectAsync(sim.BaseAddress.Host, sim.BaseAddress.Port);
        var stream = client.GetStream();
        await AssertHealthyAsync(stream);

        // A second request in time is served on the same connection.
        await Task.Delay(300);
        await AssertHealthyAsync(stream);

        // Then Kestrel closes it: it checks once a second and allows one more, so 1 to 3 s after the answer.
        var watch = global::System.Diagnostics.Stopwatch.StartNew();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.Equal(0, await stream.ReadAsync(new byte[64], timeout.Token));
        Assert.InRange(watch.Elapsed.TotalSeconds, 0.9, 5);
    }

    /// <summary>Sends GET /health and reads the whole 200 answer (head and Content-Length body) off the connection.</summary>
    private static async Task AssertHealthyAsync(NetworkStream stream)
    {
        await stream.WriteAsync("GET /health HTTP/1.1\r\nHost: sim\r\n\r\n"u8.ToArray());
        var text = "";
        var buffer = new byte[4096];
        while (true)
        {
            var read = await stream.ReadAsync(buffer);
            Assert.True(read > 0, $"the connection closed during the answer: {text}");
            text += global::System.Text.Encoding.ASCII.GetString(buffer, 0, read);
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            var length = text.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
            if (end >= 0 && length is not null && text.Length >= end + 4 + int.Parse(length[15..].Trim(), global::System.Globalization.CultureInfo.InvariantCulture))
            {
                break;
            }
        }
        Assert.StartsWith("HTTP/1.1 200", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_is_503_during_the_startup_delay_then_200()
    {
        var time = new CountingTimeProvider();
        var options = SimHost.Instant();
        options.StartupDelay = TimeSpan.FromSeconds(5);
        await using var sim = await SimHost.StartAsync(options, time);

        using var starting = await sim.Http.GetAsync("/health");
        using var chatWhileStarting = await sim.PostAsync("/v1/completions", new { prompt = "hi" });
        time.Advance(TimeSpan.FromSeconds(4));
        using var stillStarting = await sim.Http.GetAsync("/health");
        time.Advance(TimeSpan.FromSeconds(1));
        using var ready = await sim.Http.GetAsync("/health");
        using var chatWhenReady = await sim.PostAsync("/v1/completions", new { prompt = "hi" });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, starting.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, chatWhileStarting.StatusCode);
        Assert.Equal("not_ready", (await SimHost.JsonAsync(chatWhileStarting)).GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, stillStarting.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, chatWhenReady.StatusCode);
    }

    [Fact]
    public async Task Every_response_names_the_instance_that_served_it()
    {
        var options = SimHost.Instant();
        options.Instance = "sim-a";
        await using var sim = await SimHost.StartAsync(options);

        using var ok = await sim.PostAsync("/v1/chat/completions", new { messages = new[] { new { role = "user", content = "hi" } } });
        using var error = await sim.PostAsync("/v1/chat/completions", new { model = "nope" });
        using var health = await sim.Http.GetAsync("/health");
        using var metrics = await sim.Http.GetAsync("/metrics");
        using var models = await sim.Http.GetAsync("/v1/models");
        using var unknown = await sim.Http.GetAsync("/nowhere");

        foreach (var response in new[] { ok, error, health, metrics, models, unknown })
        {
            Assert.Equal("sim-a", Assert.Single(response.Headers.GetValues("x-atoll-instance")));
        }
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task The_default_instance_name_is_hostname_and_bound_port()
    {
        await using var sim = await SimHost.StartAsync();

        using var response = await sim.Http.GetAsync("/health");

        Assert.Equal($"{Environment.MachineName}:{sim.BaseAddress.Port}", Assert.Single(response.Headers.GetValues("x-atoll-instance")));
    }

    [Fact]
    public async Task Metrics_use_vllm_names_with_the_model_name_label()
    {
        var options = SimHost.Instant();
        options.Model = "m1";
        await using var sim = await SimHost.StartAsync(options);
        using var _ = await sim.PostAsync("/v1/completions", new { prompt = "hi", max_tokens = 2 });

        using var response = await sim.Http.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        foreach (var name in new[]
        {
            "vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
            "vllm:prefix_cache_queries_total", "vllm:prefix_cache_hits_total", "vllm:time_to_first_token_seconds_count",
            "vllm:e2e_request_latency_seconds_count", "atoll_sim_requests_cancelled_total",
        })
        {
            Assert.Contains(name + "{model_name=\"m1\"", text, StringComparison.Ordinal);
        }
        Assert.Contains("atoll_sim_requests_total{model_name=\"m1\",status=\"200\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("vllm:time_to_first_token_seconds_bucket{model_name=\"m1\",le=\"+Inf\"} 1", text, StringComparison.Ordinal);
        Assert.Equal(2, await sim.MetricAsync("vllm:generation_tokens_total"));
    }

    [Fact]
    public async Task The_cache_size_is_reported_as_vllm_does()
    {
        var options = SimHost.Instant();
        options.PrefixCacheBlocks = 96;
        await using var sim = await SimHost.StartAsync(options);
        var text = await sim.Http.GetStringAsync("/metrics");
        Assert.Contains("vllm:cache_config_info{block_size=\"16\",enable_prefix_caching=\"True\",num_gpu_blocks=\"96\"} 1.0\n", text, StringComparison.Ordinal);

        var off = SimHost.Instant();
        off.PrefixCacheBlocks = 0;
        await using var without = await SimHost.StartAsync(off);
        Assert.DoesNotContain("vllm:cache_config_info", await without.Http.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }
}
