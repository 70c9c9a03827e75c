using System.Diagnostics;

namespace Atoll.System.Tests.Gateway;

/// <summary>When every endpoint of a model is busy, requests wait in the gateway's queue rather than fail.</summary>
[Collection(GatewayCollection.Name)]
public sealed class AdmissionTests
{
    private const int MaxTokens = 6;

    [Fact]
    public async Task Request_over_endpoint_capacity_waits_its_turn_and_succeeds()
    {
        using var dir = new TempDirectory("gateway-admission");
        // 6 tokens 200 ms apart: about a second each. The sim itself would run both at once (--max-num-seqs 16).
        await using var fleet = await GatewayFleet.StartAsync(dir, [["--itl", "200"]], "--endpoint-capacity", "1");

        // Warm the request path (auth cache, first-use JIT) so the first timed request is counted in flight at once.
        using (var warm = await fleet.Server.PostChatAsync(Chat.Request("warm-up", 1), fleet.Server.AdminToken))
        {
            Chat.AssertComplete(warm.StatusCode, await warm.Content.ReadAsStringAsync(), 1);
        }

        var first = Task.Run(async () =>
        {
            using var response = await fleet.Server.PostChatAsync(Chat.Request("queued 0", MaxTokens), fleet.Server.AdminToken);
            Chat.AssertComplete(response.StatusCode, await response.Content.ReadAsStringAsync(), MaxTokens);
        });
        // The second is sent once the gateway counts the first in flight: it has about a second of generation left.
        var polling = Stopwatch.StartNew();
        while (Prometheus.Sum(await fleet.Server.MetricsAsync(), "atoll_gateway_in_flight_requests") < 1)
        {
            if (first.IsCompleted)
            {
                await first; // its failure, if it failed
                Assert.Fail("the first request ended before the gateway was seen counting it in flight");
            }
            Assert.True(polling.Elapsed < TimeSpan.FromSeconds(10), "the gateway never counted the first request in flight");
            await Task.Delay(10);
        }
        using (var second = await fleet.Server.PostChatAsync(Chat.Request("queued 1", MaxTokens), fleet.Server.AdminToken))
        {
            Chat.AssertComplete(second.StatusCode, await second.Content.ReadAsStringAsync(), MaxTokens);
        }
        await first;

        // Measured by the gateway, not by this test's clock (which a loaded test host can stall): the second request
        // waited in the queue, for the rest of the first one's generation (>= 0.9 s from its start). The first may
        // have waited an instant too: the client can read the warm-up's answer before the gateway frees its slot.
        var metrics = await fleet.Server.MetricsAsync();
        var waits = Prometheus.Sum(metrics, "atoll_gateway_queue_wait_seconds_count");
        var waited = Prometheus.Sum(metrics, "atoll_gateway_queue_wait_seconds_sum");
        Assert.True(waits >= 1 && waited >= 0.3,
            $"{waits} request(s) waited {waited:0.000} s in all: the two ran side by side, beyond capacity 1");
    }
}
