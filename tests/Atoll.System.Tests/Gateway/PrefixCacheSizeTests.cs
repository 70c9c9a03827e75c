using Atoll.Testing.Processes;

namespace Atoll.System.Tests.Gateway;

/// <summary>
/// The gateway sizes what it remembers sending to each endpoint by the endpoint's own KV-cache size (vLLM's
/// <c>vllm:cache_config_info</c>, which the sim reports too): remembering more than a server keeps sends prompts
/// to servers that evicted their prefix long ago (bench/results: cache hits 72 % → 92 % on the routing workload).
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class PrefixCacheSizeTests
{
    [Fact]
    public async Task Each_endpoint_remembers_as_many_blocks_as_its_server_caches()
    {
        using var dir = new TempDirectory("gateway-prefix-size");
        // 96 blocks of 16 tokens; the second sim caches nothing and reports no cache size.
        await using var fleet = await GatewayFleet.StartAsync(dir, [["--prefix-cache-blocks", "96"], ["--prefix-cache-blocks", "0"]]);
        var server = fleet.Server;
        const string Name = "atoll_gateway_endpoint_prefix_blocks";

        await Eventually.Until(async () =>
            Prometheus.Sum(await server.MetricsAsync(), Name, $"endpoint=\"{fleet.Sims[0].EndpointId}\"") == 96, TimeSpan.FromSeconds(15), "the 96-block sim's size");
        var text = await server.MetricsAsync();
        Assert.Equal(96, Prometheus.Sum(text, Name, $"endpoint=\"{fleet.Sims[0].EndpointId}\""));
        Assert.Equal(10_000, Prometheus.Sum(text, Name, $"endpoint=\"{fleet.Sims[1].EndpointId}\"")); // the configured bound
    }
}
