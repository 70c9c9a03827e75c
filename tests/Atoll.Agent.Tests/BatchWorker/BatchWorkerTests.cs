using System.Text;
using System.Text.Json;
using Atoll.Core.Contracts;

namespace Atoll.Agent.Tests.BatchWorker;

public sealed class BatchWorkerTests : IAsyncLifetime
{
    private FakeLeaseServer server = null!;
    private FakeModelServer model = null!;

    public async Task InitializeAsync()
    {
        server = await FakeLeaseServer.StartAsync();
        model = await FakeModelServer.StartAsync();
        server.Input = WorkerRun.Input(14);
    }

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        await model.DisposeAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Works_a_leased_chunk_and_uploads_one_result_line_per_request_then_completes(bool storeIgnoresRange)
    {
        server.IgnoreRange = storeIgnoresRange;
        server.Offer("batch_a", 1, first: 2, count: 10);
        await using (var run = WorkerRun.Start(server, model))
        {
            Assert.True(await WorkerRun.EventuallyAsync(() => server.BodiesOf("complete").Any()), "the lease was never completed");
        }

        Assert.Equal(10, model.Requests.Count);
        Assert.Equal(Enumerable.Range(2, 10).Select(i => $"line-{i}").Order(), model.Requests.Select(r => r.Content).Order());
        var (body, contentType) = Assert.Single(server.Uploads.Values);
        Assert.Equal("application/x-ndjson", contentType);
        var lines = Encoding.UTF8.GetString(body).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(10, lines.Length);
        for (var i = 0; i < 10; i++)
        {
            using var line = JsonDocument.Parse(lines[i]);
            var root = line.RootElement;
            Assert.StartsWith("batch_req_", root.GetProperty("id").GetString());
            Assert.Equal($"r{i + 2}", root.GetProperty("custom_id").GetString());
            Assert.Equal(JsonValueKind.Null, root.GetProperty("error").ValueKind);
            var response = root.GetProperty("response");
            Assert.Equal(200, response.GetProperty("status_code").GetInt32());
            Assert.Equal($"req-line-{i + 2}", response.GetProperty("request_id").GetString());
            Assert.Equal($"echo line-{i + 2}", response.GetProperty("body").GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        }
        using var complete = JsonDocument.Parse(Assert.Single(server.BodiesOf("complete")));
        Assert.Equal(10, complete.RootElement.GetProperty("succeeded").GetInt32());
        Assert.Equal(0, complete.RootElement.GetProperty("failed").GetInt32());
        Assert.StartsWith("lt_", complete.RootElement.GetProperty("leaseToken").GetString());
    }

    [Fact]
    public async Task The_node_credential_goes_only_to_the_control_plane_never_to_signed_urls_or_the_model()
    {
        server.Offer("batch_a", 1, first: 0, count: 5);
        await using (var run = WorkerRun.Start(server, model))
        {
            Assert.True(await WorkerRun.EventuallyAsync(() => server.BodiesOf("complete").Any()));
        }

        var objectCalls = server.Calls.Where(c => c.Path.StartsWith("/objects/", StringComparison.Ordinal)).ToList();
        Assert.Equal(["GET", "PUT"], objectCalls.Select(c => c.Method));
        Assert.All(objectCalls, c => Assert.Null(c.Authorization));
        Assert.All(model.Requests, r => Assert.Null(r.Authorization));
        Assert.All(server.Calls.Where(c => c.Path.StartsWith("/api/", StringComparison.Ordinal)),
            c => Assert.Equal("Bearer " + FakeLeaseServer.Credential, c.Authorization));
    }

    [Fact]
    public async Task A_model_4xx_becomes_that_lines_error_with_the_response_and_is_not_retried()
    {
        model.Behaviour = content => content == "line-3" ? 400 : 200;
        server.Offer("batch_a", 1, first: 0, count: 10);
        await using (var run = WorkerRun.Start(server, model))
        {
            Assert.True(await WorkerRun.EventuallyAsync(() => server.BodiesOf("complete").Any()));
        }

        Assert.Equal(1, model.CallsFor("line-3"));
        var lines = Encoding.UTF8.GetString(Assert.Single(server.Uploads.Values).Body).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(10, lines.Length);
        using var error = JsonDocument.Parse(lines[3]);
        Assert.Equal("r3", error.RootElement.GetProperty("custom_id").GetString());
        Assert.Equal(400, error.RootElement.GetProperty("response").GetProperty("status_code").GetInt32());
        Assert.Equal("bad request for line-3", error.RootElement.GetProperty("response").GetProperty("body").GetProperty("error").GetProperty("message").GetString());
        Assert.Equal("bad request for line-3", error.RootElement.GetProperty("error").GetProperty("message").GetString());
        using var complete = JsonDocument.Parse(Assert.Single(server.BodiesOf("complete")));
        Assert.Equal(9, complete.RootElement.GetProperty("succeeded").GetInt32());
        Assert.Equal(1, complete.RootElement.GetProperty("failed").GetInt32());
        Assert.Empty(server.BodiesOf("fail"));
    }

    [Fact]
    public async Task A_request_failing_with_5xx_through_its_retries_fails_the_attempt_and_uploads_nothing()
    {
        model.Behaviour = content => content == "line-5" ? 500 : 200;
        server.Offer("batch_a", 1, first: 0, count: 10);
        await using (var run = WorkerRun.Start(server, model, maxRetries: 2))
        {
            Assert.True(await WorkerRun.EventuallyAsync(() => server.BodiesOf("fail").Any()), "the attempt was never failed");
            await Task.Delay(200);
        }

        Assert.Equal(3, model.CallsFor("line-5")); // the first try and 2 retries
        using var fail = JsonDocument.Parse(Assert.Single(server.BodiesOf("fail")));
        var reason = fail.RootElement.GetProperty("error").GetString()!;
        Assert.Contains("r5", reason);
        Assert.Contains("500", reason);
        Assert.Empty(server.Uploads);
        Assert.Empty(server.BodiesOf("complete"));
    }

    [Fact]
    public async Task A_lease_lost_mid_chunk_cancels_the_requests_in_flight_and_writes_nothing()
    {
        model.Behaviour = _ => null; // every request hangs until the worker gives up on it
        server.Offer("batch_a", 1, first: 0, count: 10);
        await using (var run = WorkerRun.Start(server, model, concurrency: 4))
        {
            Assert.True(await WorkerRun.EventuallyAsync(() => model.Started == 4));
            Assert.True(await WorkerRun.EventuallyAsync(() => server.BodiesOf("heartbeat").Any()), "the lease was never heartbeated");
            server.HeartbeatStatus = LeaseState.Lost;
            Assert.True(await WorkerRun.EventuallyAsync(() => model.Aborted == 4), $"{model.Aborted} of 4 requests in flight were cancelled");
            var polls = server.Polls;
            Assert.True(await WorkerRun.EventuallyAsync(() => server.Polls > polls), "the worker did not go back to polling");
        }

        Assert.Equal(4, model.Started);
        Assert.Empty(server.Uploads);
        Assert.Empty(server.BodiesOf("complete"));
        Assert.Empty(server.BodiesOf("fail"));
    }

    [Fact]
    public async Task A_cancelled_batch_stops_the_work_the_same_way()
    {
        model.Behaviour = _ => null;
        server.Offer("batch_a", 1, first: 0, count: 3);
        await using (var run = WorkerRun.Start(server, model))
        {
            Assert.True(await WorkerRun.EventuallyAsync(() => model.Started == 3));
            server.HeartbeatStatus = LeaseState.Cancelled;
            Assert.True(await WorkerRun.EventuallyAsync(() => model.Aborted == 3));
        }

        Assert.Empty(server.Uploads);
        Assert.Empty(server.BodiesOf("complete"));
    }

    [Fact]
    public async Task No_lease_is_claimed_while_interactive_traffic_is_above_the_limit()
    {
        model.MetricsText = "vllm:num_requests_running{model_name=\"llama\"} 7\nvllm:num_requests_waiting{model_name=\"llama\"} 3\n";
        server.Offer("batch_a", 1, first: 0, count: 3);
        await using (var run = WorkerRun.Start(server, model, yieldAbove: 4))
        {
            await Task.Delay(1500);
            Assert.Equal(0, server.Polls);

            model.MetricsText = "# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name=\"llama\"} 1\nvllm:num_requests_waiting{model_name=\"llama\"} 0\n";
            Assert.True(await WorkerRun.EventuallyAsync(() => server.BodiesOf("complete").Any()), "no lease claimed after the traffic dropped");
        }
        Assert.Equal(3, model.Requests.Count);
    }

    [Fact]
    public async Task A_model_server_without_metrics_never_makes_batch_work_wait()
    {
        model.MetricsText = null;
        server.Offer("batch_a", 1, first: 0, count: 3);
        await using var run = WorkerRun.Start(server, model, yieldAbove: 1);
        Assert.True(await WorkerRun.EventuallyAsync(() => server.BodiesOf("complete").Any()));
    }

    [Fact]
    public async Task An_empty_long_poll_is_followed_by_another_poll_and_later_work_is_taken()
    {
        await using var run = WorkerRun.Start(server, model);
        Assert.True(await WorkerRun.EventuallyAsync(() => server.Polls >= 3), "the worker stopped polling after 204");
        server.Offer("batch_a", 1, first: 0, count: 2);
        Assert.True(await WorkerRun.EventuallyAsync(() => server.BodiesOf("complete").Any()));
        using var poll = JsonDocument.Parse(server.Calls.First(c => c.Path == "/api/v1/agent/leases").Body);
        Assert.Equal(["llama"], poll.RootElement.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(1, poll.RootElement.GetProperty("waitSeconds").GetInt32());
    }

    [Fact]
    public async Task A_failing_control_plane_is_retried_with_backoff_and_the_worker_carries_on()
    {
        server.FailPollsWith = 503;
        server.FailPollsFor = 3;
        server.Offer("batch_a", 1, first: 0, count: 2);
        await using var run = WorkerRun.Start(server, model);
        Assert.True(await WorkerRun.EventuallyAsync(() => server.BodiesOf("complete").Any()));
        Assert.Equal(0, server.FailPollsFor);
        Assert.False(run.Run.IsCompleted);
    }

    [Fact]
    public async Task A_refused_credential_stops_the_worker()
    {
        server.FailPollsWith = 401;
        server.FailPollsFor = 1000;
        await using var run = WorkerRun.Start(server, model);
        Assert.True(await WorkerRun.EventuallyAsync(() => run.Run.IsCompleted), "the worker kept polling with a refused credential");
        await run.Run; // ended normally, not faulted
        Assert.Equal(1, server.Polls);
    }
}
