using System.Diagnostics;

namespace Atoll.System.Tests.Gateway;

/// <summary>A model server that accepts requests and never answers costs each request at most the first-byte timeout, then nothing.</summary>
[Collection(GatewayCollection.Name)]
public sealed class HungBackendTests
{
    private const int MaxTokens = 4;
    private static readonly TimeSpan FirstByteTimeout = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Hung_backend_costs_requests_one_first_byte_timeout_then_is_ejected()
    {
        using var dir = new TempDirectory("gateway-hang");
        await using var fleet = await GatewayFleet.StartAsync(dir,
            [[], ["--failure-rate", "1", "--failure-kinds", "hang"]], "--first-byte-timeout", "1s");
        var healthy = fleet.Sims[0];
        var hung = fleet.Sims[1];

        // Concurrent rounds: the in-flight scorer spreads each round over both endpoints, so the hung one gets tries.
        var timedOut = 0;
        for (var round = 0; round < 5 && await fleet.Server.MetricAsync("atoll_gateway_ejections_total") < 1; round++)
        {
            var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => TimedChatAsync(fleet.Server, $"round {round} request {i}")));
            foreach (var (elapsed, endpoint) in results)
            {
                Assert.Equal(healthy.EndpointId, endpoint);
                // One attempt lost to the hung server, then a normal answer: never the hang itself (which is forever).
                // The margin is wide because this test's clock runs on a loaded CI machine too.
                Assert.True(elapsed < FirstByteTimeout + TimeSpan.FromSeconds(4), $"a request took {elapsed.TotalMilliseconds:0} ms");
                if (elapsed >= FirstByteTimeout)
                {
                    timedOut++;
                }
            }
        }
        Assert.True(timedOut >= 1, "no request ever waited on the hung backend: the test did not exercise the timeout");
        var metrics = await fleet.Server.MetricsAsync();
        Assert.True(Prometheus.Sum(metrics, "atoll_gateway_ejections_total", $"endpoint=\"{hung.EndpointId}\"") >= 1,
            $"the hung endpoint was not ejected:\n{string.Join('\n', metrics.Split('\n').Where(l => l.StartsWith("atoll_gateway_", StringComparison.Ordinal)))}");
        Assert.Equal(0, Prometheus.Sum(metrics, "atoll_gateway_ejections_total", $"endpoint=\"{healthy.EndpointId}\""));

        // Ejected (5 s cooldown): later requests do not wait on it at all. A request that tried it would have waited
        // the whole first-byte timeout and been retried, so the retry count shows it exactly; the time bound is a
        // loose one, as a loaded CI machine has made a plain request take 985 ms.
        var retriesBefore = await fleet.Server.MetricAsync("atoll_gateway_retries_total");
        for (var i = 0; i < 5; i++)
        {
            var (elapsed, endpoint) = await TimedChatAsync(fleet.Server, $"after ejection {i}");
            Assert.Equal(healthy.EndpointId, endpoint);
            Assert.True(elapsed < FirstByteTimeout + TimeSpan.FromSeconds(4), $"request {i} after the ejection took {elapsed.TotalMilliseconds:0} ms");
        }
        Assert.Equal(retriesBefore, await fleet.Server.MetricAsync("atoll_gateway_retries_total"));
    }

    private static async Task<(TimeSpan Elapsed, string? Endpoint)> TimedChatAsync(GatewayServer server, string prompt)
    {
        var clock = Stopwatch.StartNew();
        using var response = await server.PostChatAsync(Chat.Request(prompt, MaxTokens), server.AdminToken);
        Chat.AssertComplete(response.StatusCode, await response.Content.ReadAsStringAsync(), MaxTokens);
        return (clock.Elapsed, response.Headers.TryGetValues("x-atoll-endpoint", out var v) ? v.Single() : null);
    }
}
