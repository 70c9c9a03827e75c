using System.Net;

namespace Atoll.System.Tests.Gateway;

/// <summary>The retry budget, shared by every model, is spent only on retries that have somewhere to go.</summary>
[Collection(GatewayCollection.Name)]
public sealed class RetryBudgetTests
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

        var metrics = await server.MetricsAsync();
        Assert.Equal(2, Prometheus.Sum(metrics, "atoll_gateway_requests_total", "code=\"502\""));
        Assert.Equal(0, Prometheus.Sum(metrics, "atoll_gateway_retries_total"));
        Assert.Equal(0, Prometheus.Sum(metrics, "atoll_gateway_retry_budget_exhausted_total"));
    }
}
