using Atoll.Core.Contracts;
using Atoll.Core.Routing;
using Atoll.Server.Gateway;
using Atoll.Server.Observability;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Atoll.Server.Tests.Gateway;

public sealed class GatewayPartsTests : IDisposable
{
    /// <summary>The forwarding client whose idle drops <see cref="GatewayMetrics"/> publishes.</summary>
    private readonly UpstreamClients upstream = new(Options.Create(new GatewayOptions()));

    public void Dispose() => upstream.Dispose();

    [Theory]
    [InlineData(0.5, 1, "upstream idle timeout 0.5s: expected at least 1s")]
    [InlineData(4, -1, "warm connections -1: expected 0 to 16")]
    [InlineData(4, 17, "warm connections 17: expected 0 to 16")]
    public void Upstream_connection_settings_out_of_range_are_named(double idleSeconds, int warm, string expected)
    {
        var options = new GatewayOptions { UpstreamIdleTimeout = TimeSpan.FromSeconds(idleSeconds), WarmConnections = warm };
        Assert.Contains(options.Validate(), p => p.Contains(expected, StringComparison.Ordinal));
        Assert.Empty(new GatewayOptions().Validate());
    }

    [Fact]
    public void Timeouts_that_are_not_positive_are_named_by_their_option()
    {
        var problems = new GatewayOptions
        {
            FirstByteTimeout = TimeSpan.Zero, StreamIdleTimeout = TimeSpan.Zero, StreamTimeout = TimeSpan.FromSeconds(-1),
        }.Validate();
        Assert.Contains("--first-byte-timeout 0s: expected a positive duration up to 7 days", problems);
        Assert.Contains("--stream-idle-timeout 0s: expected a positive duration up to 7 days", problems);
        Assert.Contains("--stream-timeout -1s: expected a positive duration up to 7 days", problems);
        Assert.Equal(3, problems.Count);
        // A timer cannot wait much more than 49 days: longer settings would fail every request that sets one.
        Assert.Equal(["--stream-idle-timeout 4320000s: expected a positive duration up to 7 days"],
            new GatewayOptions { StreamIdleTimeout = TimeSpan.FromDays(50) }.Validate());
    }

    [Theory]
    [InlineData(null, 3600)] // no max_tokens: the gateway's limit
    [InlineData(100, 70)] // the idle timeout's 60 s (longer than the first byte's 30) for the queue and prefill, then 100 tokens at 10/s
    [InlineData(1_000_000, 3600)] // more tokens than the limit allows at 10/s: the limit
    public void A_stream_may_last_its_max_tokens_at_the_slowest_rate_allowed_up_to_the_limit(int? maxTokens, double seconds)
    {
        var options = new GatewayOptions(); // first byte 30 s, stream idle 60 s, 10 tokens/s, stream timeout 1 h
        Assert.Equal(TimeSpan.FromSeconds(seconds), options.StreamTimeoutFor(maxTokens));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(3L * 1024 * 1024 * 1024)]
    public void A_body_limit_that_one_array_cannot_hold_is_named(long bytes)
    {
        var problems = new GatewayOptions { MaxBodyBytes = bytes }.Validate();
        Assert.Contains(problems, p => p.Contains($"max body bytes {bytes}: expected 1 to {Array.MaxLength}", StringComparison.Ordinal));
    }

    [Fact]
    public void Rate_limiter_refuses_past_the_requests_per_minute_and_refills_with_time()
    {
        var time = new FakeTimeProvider();
        var limiter = new KeyRateLimiter(time);
        var caller = new GatewayCaller("k", "team", RequestsPerMinute: 2, TokensPerMinute: null);
        Assert.Null(limiter.TryAdmit(caller, 10));
        Assert.Null(limiter.TryAdmit(caller, 10));
        var wait = limiter.TryAdmit(caller, 10);
        Assert.NotNull(wait);
        Assert.InRange(wait.Value.TotalSeconds, 29, 31);

        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Null(limiter.TryAdmit(caller, 10));
        Assert.Null(limiter.TryAdmit(GatewayCaller.Admin, 10_000_000));
    }

    [Fact]
    public void Token_limit_is_charged_after_the_answer_and_blocks_until_refilled()
    {
        var time = new FakeTimeProvider();
        var limiter = new KeyRateLimiter(time);
        var caller = new GatewayCaller("k", "team", null, TokensPerMinute: 100);
        Assert.Null(limiter.TryAdmit(caller, 10));
        limiter.Charge(caller, 150); // a long answer: the key is now in debt
        Assert.NotNull(limiter.TryAdmit(caller, 1));
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Null(limiter.TryAdmit(caller, 1));
    }

    [Fact]
    public void A_key_with_a_concurrency_limit_gets_that_many_requests_in_flight_and_the_next_when_one_ends()
    {
        var limiter = new KeyRateLimiter(new FakeTimeProvider());
        var caller = new GatewayCaller("k", "team", null, null, MaxConcurrent: 2);
        var other = new GatewayCaller("k2", "other", null, null, MaxConcurrent: 1);
        Assert.True(limiter.TryBeginRequest(caller));
        Assert.True(limiter.TryBeginRequest(caller));
        Assert.False(limiter.TryBeginRequest(caller));
        Assert.Equal(2, limiter.InFlight("k")); // the refused one is not counted
        Assert.True(limiter.TryBeginRequest(other)); // keys do not share a count

        limiter.EndRequest(caller);
        Assert.True(limiter.TryBeginRequest(caller));
        Assert.False(limiter.TryBeginRequest(caller));
        for (var i = 0; i < 100; i++)
        {
            Assert.True(limiter.TryBeginRequest(GatewayCaller.Admin)); // no limit, nothing counted
        }
        Assert.Equal(0, limiter.InFlight(GatewayCaller.Admin.Id));
    }

    [Fact]
    public async Task Capacity_signal_bounds_its_waiters_and_wakes_them_on_release()
    {
        var signal = new CapacitySignal(capacity: 1);
        Assert.True(signal.TryEnter());
        Assert.False(signal.TryEnter());
        var woken = signal.NextReleaseAsync();
        Assert.False(woken.IsCompleted);
        signal.Release();
        await woken.WaitAsync(TimeSpan.FromSeconds(5));
        signal.Leave();
        Assert.Equal(0, signal.Waiting);
    }

    [Fact]
    public void Registry_keeps_endpoint_state_across_refreshes_and_follows_node_readiness()
    {
        var time = new FakeTimeProvider();
        var options = Options.Create(new GatewayOptions { StaticEndpoints = [new ModelEndpoint("m", "http://10.0.0.9:8000/v1/")] });
        var registry = new EndpointRegistry(options, new PrefixIndex(), time);
        var node = Node("n1", ConditionTypes.True, new ModelEndpoint("m", "http://10.0.0.1:8000"));

        registry.Update([node]);
        var first = registry.ForModel("m");
        Assert.Equal(["n1/m/http://10.0.0.1:8000/", "static/m/http://10.0.0.9:8000/"], first.Select(e => e.Id));
        Assert.All(first, e => Assert.True(e.NodeReady));
        Assert.Equal("local-a", first[0].Location);
        using var inFlight = first[0].BeginRequest();

        registry.Update([Node("n1", ConditionTypes.Unknown, new ModelEndpoint("m", "http://10.0.0.1:8000"))]);
        var second = registry.ForModel("m");
        Assert.Same(first[0], second[0]);
        Assert.Equal(1, second[0].InFlight);
        Assert.False(second[0].NodeReady);

        registry.Update([]);
        Assert.Equal(["static/m/http://10.0.0.9:8000/"], registry.ForModel("m").Select(e => e.Id));
        Assert.Empty(registry.ForModel("other"));
    }

    [Fact]
    public void Endpoint_names_for_clients_and_metrics_leave_out_the_model_servers_address()
    {
        var options = Options.Create(new GatewayOptions
        {
            StaticEndpoints = [new ModelEndpoint("m", "http://10.0.0.8:8000/v1/"), new ModelEndpoint("m", "http://10.0.0.9:8000")],
        });
        var registry = new EndpointRegistry(options, new PrefixIndex(), new FakeTimeProvider());

        registry.Update([Node("n1", ConditionTypes.True, new ModelEndpoint("m", "http://10.0.0.1:8000"))]);
        var names = registry.ForModel("m").Select(e => e.Name).ToArray();

        // One URL of a model on a node: node/model. Several (two static ones here): a short hash of each URL tells
        // them apart, the same at every refresh.
        Assert.Equal(["n1/m", "static/m/" + ShortHash("http://10.0.0.8:8000/"), "static/m/" + ShortHash("http://10.0.0.9:8000/")], names);
        Assert.All(names, n => Assert.DoesNotContain("10.0.0", n, StringComparison.Ordinal));
        Assert.Equal(3, names.Distinct().Count());
        registry.Update([Node("n1", ConditionTypes.True, new ModelEndpoint("m", "http://10.0.0.1:8000"))]);
        Assert.Equal(names, registry.ForModel("m").Select(e => e.Name));

        // A second URL of the model on the node makes both of its names carry the hash.
        registry.Update([Node("n1", ConditionTypes.True, new ModelEndpoint("m", "http://10.0.0.1:8000"), new ModelEndpoint("m", "http://10.0.0.1:8001"))]);
        Assert.Equal(["n1/m/" + ShortHash("http://10.0.0.1:8000/"), "n1/m/" + ShortHash("http://10.0.0.1:8001/")],
            registry.ForModel("m").Where(e => e.Node == "n1").Select(e => e.Name));
    }

    [Fact]
    public async Task Gauges_of_an_endpoint_whose_node_left_are_removed_not_left_at_their_last_value()
    {
        var time = new FakeTimeProvider();
        var registry = new EndpointRegistry(Options.Create(new GatewayOptions()), new PrefixIndex(), time);
        var server = new ServerMetrics();
        _ = MetricsOf(server, registry, time);
        registry.Update([
            Node("n1", ConditionTypes.True, new ModelEndpoint("m", "http://10.0.0.1:8000")),
            Node("n2", ConditionTypes.True, new ModelEndpoint("m", "http://10.0.0.2:8000"))]);
        foreach (var e in registry.All)
        {
            e.ServerHealthy = true;
        }

        Assert.Contains("atoll_gateway_endpoint_up{endpoint=\"n2/m\",model=\"m\"} 1", await ExportAsync(server));
        registry.Update([Node("n1", ConditionTypes.True, new ModelEndpoint("m", "http://10.0.0.1:8000"))]);
        var text = await ExportAsync(server);

        Assert.Contains("atoll_gateway_endpoint_up{endpoint=\"n1/m\",model=\"m\"} 1", text);
        Assert.DoesNotContain("endpoint=\"n2/m\"", text);
    }

    [Fact]
    public async Task Requests_are_counted_under_their_own_labels_and_in_their_own_server()
    {
        var time = new FakeTimeProvider();
        var registry = new EndpointRegistry(Options.Create(new GatewayOptions()), new PrefixIndex(), time);
        var (first, second) = (new ServerMetrics(), new ServerMetrics());
        var a = MetricsOf(first, registry, time);
        var b = MetricsOf(second, registry, time);

        // Equal labels (a model name is a new string per request) count in one series, in their own server's registry
        // only; any label that differs is a series of its own.
        a.CountRequest("m", "n1/m", "200");
        a.CountRequest(new string("m".AsSpan()), "n1/m", "200");
        b.CountRequest("m", "n1/m", "200");
        a.CountRequest("m", "n1/m", "502");
        a.CountRequest("m2", "n1/m", "200");
        a.CountRequest("m", "n2/m", "200");

        var text = await ExportAsync(first);
        Assert.Contains("atoll_gateway_requests_total{model=\"m\",endpoint=\"n1/m\",code=\"200\"} 2", text);
        Assert.Contains("atoll_gateway_requests_total{model=\"m\",endpoint=\"n1/m\",code=\"502\"} 1", text);
        Assert.Contains("atoll_gateway_requests_total{model=\"m2\",endpoint=\"n1/m\",code=\"200\"} 1", text);
        Assert.Contains("atoll_gateway_requests_total{model=\"m\",endpoint=\"n2/m\",code=\"200\"} 1", text);
        Assert.Contains("atoll_gateway_requests_total{model=\"m\",endpoint=\"n1/m\",code=\"200\"} 1", await ExportAsync(second));
    }

    [Fact]
    public async Task Idle_connections_dropped_before_reuse_are_published_as_a_counter()
    {
        var time = new FakeTimeProvider();
        var registry = new EndpointRegistry(Options.Create(new GatewayOptions()), new PrefixIndex(), time);
        var server = new ServerMetrics();
        _ = MetricsOf(server, registry, time);
        Assert.Contains("atoll_gateway_upstream_idle_drops_total 0", await ExportAsync(server));

        upstream.Requests.CountIdleDrop();
        upstream.Requests.CountIdleDrop();
        Assert.Contains("atoll_gateway_upstream_idle_drops_total 2", await ExportAsync(server));
        upstream.Requests.CountIdleDrop();
        Assert.Contains("atoll_gateway_upstream_idle_drops_total 3", await ExportAsync(server));
    }

    private GatewayMetrics MetricsOf(ServerMetrics server, EndpointRegistry registry, TimeProvider time) =>
        new(server, registry, new PrefixIndex(), time, upstream);

    private static async Task<string> ExportAsync(ServerMetrics server)
    {
        using var stream = new MemoryStream();
        await server.Registry.CollectAndExportAsTextAsync(stream);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static string ShortHash(string url) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(url)))[..6];

    private static NodeView Node(string name, string ready, params ModelEndpoint[] models) =>
        new(name, "local", "r", "local-a", null, CapacityTypes.OnDemand, null, new Dictionary<string, string>(), GpuReport.None, models,
            [new NodeCondition(ConditionTypes.Ready, ready, "x", "x", DateTimeOffset.UnixEpoch)], DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null);

    [Theory]
    [InlineData("{\"id\":\"chatcmpl-1\",\"choices\":[]}\n", true)]
    [InlineData(" [1, 2] ", true)]
    [InlineData("{\"id\":\"chat", false)]
    [InlineData("{\"id\":\"chatcmpl-1\",\"choices\":[", false)]
    [InlineData("{\"a\":1}{\"b\":2}", false)]
    [InlineData("", false)]
    public void A_close_delimited_answer_counts_as_whole_only_as_one_complete_JSON_value(string body, bool whole)
    {
        Assert.Equal(whole, UpstreamForwarder.IsWholeJson(global::System.Text.Encoding.UTF8.GetBytes(body)));
    }
}
