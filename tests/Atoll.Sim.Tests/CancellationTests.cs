using System.Net.Http.Json;

namespace Atoll.Sim.Tests;

public class CancellationTests
{
    [Fact]
    public async Task A_client_that_goes_away_while_waiting_for_the_first_token_is_counted_and_frees_its_slot()
    {
        var time = new CountingTimeProvider();
        var options = SimHost.Instant();
        options.TimeToFirstToken = TimeSpan.FromHours(1);
        await using var sim = await SimHost.StartAsync(options, time);
        using var cts = new CancellationTokenSource();

        var request = sim.PostAsync("/v1/completions", new { prompt = "hi" }, cts.Token);
        await time.WaitForTimersAsync(1);
        Assert.Equal(1, await sim.MetricAsync("vllm:num_requests_running"));
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        Assert.Equal(1, await sim.WaitForMetricAsync("atoll_sim_requests_cancelled_total", v => v == 1));
        Assert.Equal(0, await sim.MetricAsync("vllm:num_requests_running"));
        Assert.Equal(1, await sim.MetricAsync("atoll_sim_requests_total", "status=\"cancelled\""));
    }

    [Fact]
    public async Task A_client_that_stops_reading_a_stream_is_counted_as_cancelled()
    {
        var time = new CountingTimeProvider();
        var options = SimHost.Instant();
        options.InterTokenLatency = TimeSpan.FromHours(1);
        await using var sim = await SimHost.StartAsync(options, time);

        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = JsonContent.Create(new { prompt = "hi", stream = true }) })
        using (var response = await sim.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: ", await reader.ReadLineAsync(), StringComparison.Ordinal);
            await time.WaitForTimersAsync(1);
        }

        Assert.Equal(1, await sim.WaitForMetricAsync("atoll_sim_requests_cancelled_total", v => v == 1));
        Assert.Equal(0, await sim.MetricAsync("vllm:num_requests_running"));
    }

    [Fact]
    public async Task Stopping_the_server_ends_requests_in_flight_instead_of_waiting_for_them()
    {
        var time = new CountingTimeProvider();
        var options = SimHost.Instant();
        options.TimeToFirstToken = TimeSpan.FromHours(1);
        await using var sim = await SimHost.StartAsync(options, time);
        var request = sim.PostAsync("/v1/completions", new { prompt = "hi" });
        await time.WaitForTimersAsync(1);

        // The host would otherwise wait its shutdown timeout (30 s) for the request.
        var stopping = System.Diagnostics.Stopwatch.StartNew();
        await sim.StopServerAsync();

        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(5), $"stop took {stopping.Elapsed}");
        await Assert.ThrowsAsync<HttpRequestException>(() => request);
    }
}
