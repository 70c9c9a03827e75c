using System.Diagnostics;
using System.Net;
using Atoll.Testing.Processes;

namespace Atoll.System.Tests.Gateway;

/// <summary>
/// Attempts that fail or take long. The retry budget, shared by every model, is spent only on retries that have
/// somewhere to go. A model server sends a non-streaming answer's headers only once it has generated all of it: the
/// gateway waits for that (as long as max_tokens asks for) instead of counting the generation against its
/// first-byte timeout.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class AttemptTimingTests
{
    [Fact]
    public async Task A_failure_of_a_models_only_endpoint_is_answered_502_without_spending_a_retry()
    {
        using var dir = new TempDirectory("gateway-one-failing");
        await using var fleet = await GatewayFleet.StartAsync(dir, [["--failure-rate", "1", "--failure-kinds", "500"]]);
        var server = fleet.Server;

        // Two, under the three consecutive failures that eject: both reach the (only) endpoint and fail there.
        for (var i = 0; i < 2; i++)
        {
            using var response = await server.PostChatAsync(Chat.Request($"request {i}", 2), server.AdminToken);
            var error = await Chat.AssertOpenAiErrorAsync(response, HttpStatusCode.BadGateway, code: "upstream_failed");
            Assert.Contains($"last: {fleet.Sims[0].EndpointId}: answered 500", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        // A request is counted once its answer is written, so a scrape right after the answer may come first.
        var metrics = "";
        await Eventually.Until(async () => Prometheus.Sum(metrics = await server.MetricsAsync(), "atoll_gateway_requests_total", "code=\"502\"") >= 2,
            TimeSpan.FromSeconds(5), "both 502s counted", () => metrics);
        Assert.Equal(2, Prometheus.Sum(metrics, "atoll_gateway_requests_total", "code=\"502\""));
        Assert.Equal(0, Prometheus.Sum(metrics, "atoll_gateway_retries_total"));
        Assert.Equal(0, Prometheus.Sum(metrics, "atoll_gateway_retry_budget_exhausted_total"));
    }

    [Fact]
    public async Task A_non_streaming_answer_longer_than_the_first_byte_timeout_arrives_whole()
    {
        using var dir = new TempDirectory("gateway-long");
        // 60 tokens at 50 ms: 3 s of generation against a first-byte timeout of 1 s.
        await using var fleet = await GatewayFleet.StartAsync(dir, [["--itl", "50"]], "--first-byte-timeout", "1s");

        var took = Stopwatch.StartNew();
        using var response = await fleet.Server.PostChatAsync(Chat.Request("a long answer, please", 60), fleet.Server.AdminToken);

        Chat.AssertComplete(response.StatusCode, await response.Content.ReadAsStringAsync(), 60);
        Assert.True(took.Elapsed > TimeSpan.FromSeconds(2), $"the answer took only {took.Elapsed.TotalSeconds:0.0} s: the test did not outlast the timeout");
        Assert.Equal(0, await fleet.Server.MetricAsync("atoll_gateway_retries_total"));
    }
}
