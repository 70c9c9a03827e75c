using System.Net;

namespace Atoll.Sim.Tests;

public class QueueingTests
{
    private static readonly object Request = new { prompt = "queue me", max_tokens = 1 };

    [Fact]
    public async Task With_one_sequence_slot_requests_wait_in_line_and_queued_time_counts_toward_latency()
    {
        var time = new CountingTimeProvider();
        var options = SimHost.Instant();
        options.MaxNumSeqs = 1;
        options.TimeToFirstToken = TimeSpan.FromSeconds(1);
        await using var sim = await SimHost.StartAsync(options, time);

        var requests = Enumerable.Range(0, 3).Select(_ => sim.PostAsync("/v1/completions", Request)).ToArray();
        var waiting = await sim.WaitForMetricAsync("vllm:num_requests_waiting", v => v == 2);
        var running = await sim.MetricAsync("vllm:num_requests_running");

        Assert.Equal(2, waiting);
        Assert.Equal(1, running);
        Assert.True(await sim.MetricAsync("vllm:kv_cache_usage_perc") > 0);
        for (var done = 1; done <= 3; done++)
        {
            await time.WaitForTimersAsync(done);
            time.Advance(TimeSpan.FromSeconds(1));
            await WaitUntilAsync(() => requests.Count(r => r.IsCompleted) == done);
            Assert.Equal(done, requests.Count(r => r.IsCompleted));
        }

        Assert.All(requests, r => Assert.Equal(HttpStatusCode.OK, r.Result.StatusCode));
        // They finished after 1, 2 and 3 seconds: the later ones waited for the earlier ones.
        Assert.Equal(6, await sim.MetricAsync("vllm:e2e_request_latency_seconds_sum"), 6);
        Assert.Equal(3, await sim.MetricAsync("vllm:request_queue_time_seconds_sum"), 6);
        Assert.Equal(0, await sim.MetricAsync("vllm:num_requests_running"));
        Assert.Equal(0, await sim.MetricAsync("vllm:kv_cache_usage_perc"));
    }

    [Fact]
    public async Task Requests_beyond_the_waiting_queue_get_429_in_OpenAI_error_shape()
    {
        var time = new CountingTimeProvider();
        var options = SimHost.Instant();
        options.MaxNumSeqs = 1;
        options.MaxWaiting = 1;
        options.TimeToFirstToken = TimeSpan.FromHours(1);
        await using var sim = await SimHost.StartAsync(options, time);

        var running = sim.PostAsync("/v1/completions", Request);
        var queued = sim.PostAsync("/v1/completions", Request);
        await sim.WaitForMetricAsync("vllm:num_requests_waiting", v => v == 1);
        using var rejected = await sim.PostAsync("/v1/completions", Request);

        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        Assert.NotNull(rejected.Headers.RetryAfter);
        var error = (await SimHost.JsonAsync(rejected)).GetProperty("error");
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
        Assert.Contains("--max-waiting", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.False(running.IsCompleted || queued.IsCompleted);
        Assert.Equal(1, await sim.MetricAsync("atoll_sim_requests_total", "status=\"429\""));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5);
        }
    }
}
