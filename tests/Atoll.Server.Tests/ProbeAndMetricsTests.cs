using Atoll.Testing;

namespace Atoll.Server.Tests;

public sealed class ProbeAndMetricsTests
{
    [Theory]
    [MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Probes_answer_without_a_token_and_metrics_count_what_happened(string engine)
    {
        await using var host = await ServerHost.StartAsync(engine);
        using var anonymous = host.Client();
        Assert.Equal("ok\n", await anonymous.GetStringAsync("/healthz"));
        Assert.Equal("ok\n", await anonymous.GetStringAsync("/readyz"));

        var credential = await host.JoinAsync("gpu-1");
        await host.HeartbeatAsync(credential, "gpu-1");
        await host.RegisterAsync("atoll_join_nope", ServerHost.Registration("gpu-2"));
        await host.Liveness.ReconcileOnceAsync(CancellationToken.None);

        var metrics = await anonymous.GetStringAsync("/metrics");
        Assert.Contains("atoll_node_registrations_total{result=\"registered\"} 1", metrics);
        Assert.Contains("atoll_node_registrations_total{result=\"unknown_token\"} 1", metrics);
        Assert.Contains("atoll_node_heartbeats_total 1", metrics);
        Assert.Contains("atoll_nodes{condition=\"Ready\",status=\"True\"} 1", metrics);
        Assert.Contains("atoll_node_gpus{node=\"gpu-1\",provider=\"lambda\",region=\"us-east-1\"} 8", metrics);
        Assert.Contains("atoll_http_requests_total{method=\"POST\",route=\"/api/v1/agent/heartbeat\",code=\"200\"} 1", metrics);
        Assert.DoesNotContain(credential, metrics);
        Assert.DoesNotContain(host.AdminToken, metrics);
    }

    [Fact]
    public async Task Unreachable_postgres_fails_at_start_naming_the_host_but_not_the_password()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "atoll-test-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var e = await Assert.ThrowsAsync<Atoll.Storage.State.StoreUnavailableException>(() => AtollServer.BuildAsync(
                new ServerOptions { DataDir = dataDir, Store = "postgres://atoll:hunter2@127.0.0.1:1/atoll" }));
            Assert.Contains("127.0.0.1:1", e.Message);
            Assert.DoesNotContain("hunter2", e.Message);
            Assert.False(File.Exists(Path.Combine(dataDir, "admin.token")), "no admin token without a store to keep its hash");
        }
        finally
        {
            if (Directory.Exists(dataDir))
            {
                Directory.Delete(dataDir, true);
            }
        }
    }
}
