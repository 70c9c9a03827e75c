using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Atoll.Testing.Processes;

namespace Atoll.System.Tests.Gateway;

/// <summary>A model server dying under load costs the clients nothing: in-flight non-streaming requests are retried elsewhere.</summary>
[Collection(GatewayCollection.Name)]
public sealed class FailoverTests
{
    private const int Workers = 16;
    private const int MaxTokens = 8;
    private static readonly TimeSpan KillAfter = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan LoadAfterKill = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task An_answer_ended_by_a_close_halfway_through_its_JSON_is_a_failed_attempt_never_a_200()
    {
        // No Content-Length, no chunks: the body ends where the connection does, so a server dying halfway looks like
        // one that finished. With no other endpoint to retry on, the client gets a 502 that says why.
        using var dying = RawModelServer.Start(head => (TimeSpan.Zero, head.StartsWith("POST ", StringComparison.Ordinal)
            ? "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"id\":\"chatcmpl-cut\",\"choices\":[{\"index\":0,"
            : RawModelServer.NotFound));
        using var dir = new TempDirectory("gateway-cut-json");
        await using var server = await GatewayServer.StartAsync(dir.Combine("server"), [], "--endpoint", $"cut={dying.Url}");

        using var response = await server.PostChatAsync(Chat.Request("cut short", 2, model: "cut"), server.AdminToken);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadGateway, $"{(int)response.StatusCode}: {body}");
        Assert.Contains("the connection closed before its JSON was complete", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Backend_SIGKILLed_under_steady_load_fails_no_non_streaming_request()
    {
        using var dir = new TempDirectory("gateway-failover");
        await using var fleet = await GatewayFleet.StartAsync(dir, [[], [], []]);
        var victim = fleet.Sims[1];
        var results = new ConcurrentQueue<Result>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();

        var load = Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var started = clock.Elapsed;
                try
                {
                    using var response = await fleet.Server.PostChatAsync(Chat.Request($"worker {w} request {n}", MaxTokens), fleet.Server.AdminToken);
                    var body = await response.Content.ReadAsStringAsync();
                    var endpoint = response.Headers.TryGetValues("x-atoll-endpoint", out var values) ? values.Single() : null;
                    results.Enqueue(new Result(started, clock.Elapsed, response.StatusCode, body, endpoint, null));
                }
                catch (Exception e)
                {
                    results.Enqueue(new Result(started, clock.Elapsed, 0, "", null, e));
                }
            }
        })).ToList();

        // Kill once the load is steady and the victim is visibly taking its share (slow machines get there later).
        await Eventually.Until(
            () => clock.Elapsed >= KillAfter && results.Count(r => r.Endpoint == victim.EndpointId) >= 3,
            TimeSpan.FromSeconds(30), $"{victim.EndpointId} answered 3 requests of the load");
        var killedAt = clock.Elapsed;
        victim.Kill();
        await Task.Delay(LoadAfterKill);
        await stop.CancelAsync();
        await Task.WhenAll(load);

        var failed = results.Where(r => r.Error is not null || r.Status != HttpStatusCode.OK).ToList();
        Assert.True(failed.Count == 0, failed.Count == 0 ? "" :
            $"{failed.Count} of {results.Count} requests failed, e.g. {(int)failed[0].Status} {failed[0].Error?.Message} {failed[0].Body}");
        foreach (var r in results)
        {
            Chat.AssertComplete(r.Status, r.Body, MaxTokens);
            Assert.NotNull(r.Endpoint);
        }
        var afterKill = results.Where(r => r.Started > killedAt).ToList();
        Assert.True(afterKill.Count >= Workers, $"only {afterKill.Count} requests started after the kill: the load did not go on");
        // The kill hit requests in flight on the victim: they were retried, not failed...
        Assert.True(await fleet.Server.MetricAsync("atoll_gateway_retries_total") >= 1, "no request was retried: the kill hit nothing in flight");
        // ...nothing started after it was answered by the dead endpoint, and the survivors took the load.
        Assert.DoesNotContain(afterKill, r => r.Endpoint == victim.EndpointId);
        Assert.All(fleet.Sims.Where(s => s != victim), s => Assert.Contains(afterKill, r => r.Endpoint == s.EndpointId));
        Assert.True(victim.Process.HasExited);
    }

    private sealed record Result(TimeSpan Started, TimeSpan Finished, HttpStatusCode Status, string Body, string? Endpoint, Exception? Error);
}
