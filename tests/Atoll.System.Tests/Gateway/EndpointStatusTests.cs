using System.Net;
using System.Text.Json;
using Atoll.Testing.Processes;

namespace Atoll.System.Tests.Gateway;

/// <summary>
/// <c>atoll endpoints</c> and <c>atoll nodes</c> show what the gateway makes of each model server: a node can stay
/// Ready while its model server is dead, and an operator must see that without reading metrics.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class EndpointStatusTests
{
    [Fact]
    public async Task An_endpoint_whose_metrics_cannot_be_read_stops_no_other_endpoints_probe()
    {
        // One model server's /metrics names a charset .NET does not know (reading it throws InvalidOperationException),
        // and it answers at once; the other answers /health after 1.5 s (the probe waits 2 s). An exception out of one
        // endpoint's probe used to cancel the whole pass, every second, so the slow one hardly ever came up.
        using var odd = RawModelServer.Start(head => (TimeSpan.Zero, head.StartsWith("GET /metrics ", StringComparison.Ordinal)
            ? "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=nope\r\nContent-Length: 1\r\n\r\nx"
            : RawModelServer.NotFound));
        using var slow = RawModelServer.Start(_ => (TimeSpan.Zero, RawModelServer.NotFound), healthDelay: TimeSpan.FromSeconds(1.5));
        using var dir = new TempDirectory("gateway-probe-isolation");

        // StartAsync waits until both endpoints are up (atoll_gateway_endpoint_up sums to 2): at the first probe pass.
        var started = global::System.Diagnostics.Stopwatch.StartNew();
        await using var server = await GatewayServer.StartAsync(dir.Combine("server"), [],
            "--endpoint", $"odd={odd.Url}", "--endpoint", $"slow={slow.Url}");
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(20), $"both endpoints were up only after {started.Elapsed.TotalSeconds:0}s");

        Assert.Equal(["Up", "Up"], (await EndpointsAsync(server)).Select(e => e.GetProperty("state").GetString()));
    }

    [Fact]
    public async Task A_killed_model_server_shows_as_unhealthy_with_its_reason_while_its_node_stays_ready()
    {
        using var dir = new TempDirectory("gateway-endpoint-status");
        await using var fleet = await GatewayFleet.StartAsync(dir, [[], []]);
        var (staticSim, nodeSim) = (fleet.Sims[0], fleet.Sims[1]);
        var node = $"node-{nodeSim.Instance}";

        var before = await EndpointsAsync(fleet.Server);
        Assert.Equal(["Up", "Up"], before.Select(e => e.GetProperty("state").GetString()));
        var reported = before.Single(e => e.GetProperty("node").GetString() == node);
        Assert.Equal(nodeSim.Model, reported.GetProperty("model").GetString());
        Assert.Equal(nodeSim.Url + "/", reported.GetProperty("url").GetString());
        Assert.True(reported.GetProperty("rttMs").GetDouble() > 0, "no RTT was measured for an endpoint that passed its probes");

        nodeSim.Kill();
        JsonElement down = default;
        await Eventually.Until(async () =>
            (down = (await EndpointsAsync(fleet.Server)).Single(e => e.GetProperty("node").GetString() == node)).GetProperty("state").GetString() == "Unhealthy",
            TimeSpan.FromSeconds(15), "the killed sim's endpoint is Unhealthy", () => down.ToString());
        Assert.Contains("GET /health failed", down.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("Up", (await EndpointsAsync(fleet.Server)).Single(e => e.GetProperty("name").GetString() == staticSim.EndpointId)
            .GetProperty("state").GetString());

        // The node's agent still heartbeats: Ready, but its one model is counted down, and describe says why.
        var nodes = await fleet.Server.CliAsync("nodes");
        Assert.Equal(0, nodes.ExitCode);
        var row = nodes.StandardOutput.Split('\n').Single(l => l.StartsWith(node + " ", StringComparison.Ordinal));
        Assert.Contains("True", row, StringComparison.Ordinal);
        Assert.Contains("1 (1 down)", row, StringComparison.Ordinal);
        var describe = await fleet.Server.CliAsync("nodes", "describe", node);
        Assert.Contains("Unhealthy: GET /health failed", describe.StandardOutput, StringComparison.Ordinal);

        var table = await fleet.Server.CliAsync("endpoints");
        Assert.Equal(0, table.ExitCode);
        Assert.Contains(table.StandardOutput.Split('\n'), l => l.StartsWith($"{node}/{nodeSim.Model} ", StringComparison.Ordinal) && l.Contains("Unhealthy", StringComparison.Ordinal));
        var one = await fleet.Server.CliAsync("endpoints", "--model", "no-such-model");
        Assert.Contains("No endpoint serves 'no-such-model'", one.StandardOutput, StringComparison.Ordinal);

        // Admins only: it names model-server addresses, which gateway clients never see.
        using var anonymous = await fleet.Server.Http.GetAsync(new Uri("api/v1/endpoints", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        var key = await fleet.Server.CreateApiKeyAsync("status-reader");
        using var withKey = new HttpRequestMessage(HttpMethod.Get, "api/v1/endpoints") { Headers = { Authorization = new("Bearer", key) } };
        using var refused = await fleet.Server.Http.SendAsync(withKey);
        Assert.True(refused.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"an API key read the endpoint list: {(int)refused.StatusCode}");
    }

    private static async Task<List<JsonElement>> EndpointsAsync(GatewayServer server)
    {
        var result = await server.CliAsync("endpoints", "-o", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        using var doc = JsonDocument.Parse(result.StandardOutput);
        return [.. doc.RootElement.GetProperty("items").EnumerateArray().Select(e => e.Clone())];
    }
}
