using System.IO.Pipelines;
using Atoll.Server.Gateway;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Atoll.Server.Tests.Gateway;

/// <summary>
/// The front's read and write deadlines, checked on a heartbeat the test fires itself: a write the client does
/// not take aborts the connection, a read past its deadline or a close request cancels the pending read, and a
/// finished (or disposed) operation leaves no deadline behind.
/// </summary>
public sealed class Http1DeadlinesTests
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(30);
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task A_write_the_client_does_not_take_past_the_limit_aborts_the_connection()
    {
        var conn = new TestConnection();
        var heartbeat = new FakeHeartbeat();
        using var deadlines = new Http1Deadlines(conn, null, heartbeat, Short);

        var start = Environment.TickCount64;
        deadlines.WriteWaiting();
        await PastAsync(start, Short);
        heartbeat.Fire();

        var reason = Assert.Single(conn.Aborts);
        Assert.Contains("did not read", reason.Message, StringComparison.Ordinal);
        await WaitClosedAsync(conn);
        Assert.False(deadlines.TimedOut);
    }

    [Fact]
    public async Task A_write_done_before_the_limit_leaves_the_connection_open()
    {
        var conn = new TestConnection();
        var heartbeat = new FakeHeartbeat();
        using var deadlines = new Http1Deadlines(conn, null, heartbeat, Short);

        var start = Environment.TickCount64;
        deadlines.WriteWaiting();
        deadlines.WriteDone();
        await PastAsync(start, Short);
        heartbeat.Fire();

        Assert.Empty(conn.Aborts);
        Assert.False(conn.ConnectionClosed.IsCancellationRequested);
    }

    [Fact]
    public void A_heartbeat_before_the_write_limit_leaves_the_connection_open()
    {
        var conn = new TestConnection();
        var heartbeat = new FakeHeartbeat();
        using var deadlines = new Http1Deadlines(conn, null, heartbeat, Long);

        deadlines.WriteWaiting();
        heartbeat.Fire();

        Assert.Empty(conn.Aborts);
        Assert.False(conn.ConnectionClosed.IsCancellationRequested);
    }

    [Fact]
    public async Task A_write_aborts_only_once_and_the_deadline_is_cleared_by_it()
    {
        var conn = new TestConnection();
        var heartbeat = new FakeHeartbeat();
        using var deadlines = new Http1Deadlines(conn, null, heartbeat, Short);

        var start = Environment.TickCount64;
        deadlines.WriteWaiting();
        await PastAsync(start, Short);
        heartbeat.Fire();
        heartbeat.Fire();

        Assert.Single(conn.Aborts);
    }

    [Fact]
    public async Task A_read_still_pending_past_its_deadline_is_cancelled_and_marked_timed_out()
    {
        var conn = new TestConnection();
        var heartbeat = new FakeHeartbeat();
        using var deadlines = new Http1Deadlines(conn, null, heartbeat, Long);

        var start = Environment.TickCount64;
        var pending = deadlines.ReadAsync(Short).AsTask();
        heartbeat.Fire(); // before the deadline: nothing happens
        Assert.False(pending.IsCompleted);
        Assert.False(deadlines.TimedOut);

        await PastAsync(start, Short);
        heartbeat.Fire();

        var read = await pending.WaitAsync(Bound);
        Assert.True(read.IsCanceled);
        Assert.True(deadlines.TimedOut);
        Assert.False(deadlines.CloseRequested);
        Assert.Empty(conn.Aborts);
    }

    [Fact]
    public async Task A_read_that_completed_and_was_marked_done_is_not_timed_out_later()
    {
        var conn = new TestConnection();
        var heartbeat = new FakeHeartbeat();
        using var deadlines = new Http1Deadlines(conn, null, heartbeat, Long);

        await conn.Client.Output.WriteAsync("GET"u8.ToArray());
        var start = Environment.TickCount64;
        var read = await deadlines.ReadAsync(Short).AsTask().WaitAsync(Bound);
        Assert.False(read.IsCanceled);
        Assert.Equal(3, read.Buffer.Length);
        deadlines.Input.AdvanceTo(read.Buffer.End);
        deadlines.ReadDone();

        await PastAsync(start, Short);
        heartbeat.Fire();

        Assert.False(deadlines.TimedOut);
        // No cancellation was left pending for the next read either: it waits for data and gets it whole.
        var next = deadlines.ReadAsync(Long).AsTask();
        await conn.Client.Output.WriteAsync("PUT"u8.ToArray());
        var second = await next.WaitAsync(Bound);
        Assert.False(second.IsCanceled);
        Assert.Equal(3, second.Buffer.Length);
        deadlines.Input.AdvanceTo(second.Buffer.End);
        deadlines.ReadDone();
    }

    [Fact]
    public async Task A_close_request_cancels_the_pending_read_and_is_reported()
    {
        var conn = new TestConnection();
        var heartbeat = new FakeHeartbeat();
        using var lifetime = new FakeLifetime();
        using var deadlines = new Http1Deadlines(conn, lifetime, heartbeat, Long);

        var pending = deadlines.ReadAsync(Long).AsTask();
        Assert.False(pending.IsCompleted);
        Assert.False(deadlines.CloseRequested);

        lifetime.RequestClose();

        var read = await pending.WaitAsync(Bound);
        Assert.True(read.IsCanceled);
        Assert.True(deadlines.CloseRequested);
        Assert.False(deadlines.TimedOut);
        Assert.Empty(conn.Aborts);
    }

    [Fact]
    public async Task Dispose_clears_the_deadlines_so_a_later_heartbeat_does_nothing()
    {
        var conn = new TestConnection();
        var heartbeat = new FakeHeartbeat();
        using var lifetime = new FakeLifetime();
        var deadlines = new Http1Deadlines(conn, lifetime, heartbeat, Short);

        var start = Environment.TickCount64;
        var pending = deadlines.ReadAsync(Short).AsTask();
        deadlines.WriteWaiting();
        deadlines.Dispose();
        await PastAsync(start, Short);
        heartbeat.Fire(); // Kestrel's heartbeat cannot be unregistered: it still calls a disposed instance
        lifetime.RequestClose();

        Assert.Empty(conn.Aborts);
        Assert.False(conn.ConnectionClosed.IsCancellationRequested);
        Assert.False(deadlines.TimedOut);
        Assert.False(deadlines.CloseRequested);
        Assert.False(pending.IsCompleted);
    }

    /// <summary>Waits (bounded) until the tick count the deadlines use is past <paramref name="start"/> + <paramref name="limit"/>.</summary>
    private static async Task PastAsync(long start, TimeSpan limit)
    {
        var past = start + (long)limit.TotalMilliseconds + 2;
        var give = Environment.TickCount64 + (long)Bound.TotalMilliseconds;
        await Task.Delay(limit);
        while (Environment.TickCount64 <= past)
        {
            Assert.True(Environment.TickCount64 < give, "the clock did not move past the deadline");
            await Task.Delay(5);
        }
    }

    /// <summary><see cref="DefaultConnectionContext.Abort"/> cancels ConnectionClosed on the thread pool: wait for it, bounded.</summary>
    private static async Task WaitClosedAsync(TestConnection conn)
    {
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var reg = conn.ConnectionClosed.Register(() => closed.TrySetResult());
        await closed.Task.WaitAsync(Bound);
    }

    /// <summary>A Kestrel-like connection over in-memory pipes that records each abort (synchronously) before the base abort.</summary>
    private sealed class TestConnection : DefaultConnectionContext
    {
        public TestConnection()
            : this(new Pipe(), new Pipe())
        {
        }

        private TestConnection(Pipe toServer, Pipe toClient)
            : this(new Duplex(toServer.Reader, toClient.Writer), new Duplex(toClient.Reader, toServer.Writer))
        {
        }

        private TestConnection(IDuplexPipe transport, IDuplexPipe client)
            : base("test", transport, client) => Client = client;

        /// <summary>The client's end: what it writes the server reads.</summary>
        public IDuplexPipe Client { get; }

        public List<ConnectionAbortedException> Aborts { get; } = [];

        public override void Abort(ConnectionAbortedException abortReason)
        {
            lock (Aborts)
            {
                Aborts.Add(abortReason);
            }
            base.Abort(abortReason);
        }
    }

    private sealed record Duplex(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    /// <summary>Keeps the registered heartbeat callbacks so the test fires them when it chooses.</summary>
    private sealed class FakeHeartbeat : IConnectionHeartbeatFeature
    {
        private readonly List<(Action<object> Action, object State)> callbacks = [];

        public void OnHeartbeat(Action<object> action, object state) => callbacks.Add((action, state));

        public void Fire()
        {
            Assert.NotEmpty(callbacks);
            foreach (var (action, state) in callbacks)
            {
                action(state);
            }
        }
    }

    private sealed class FakeLifetime : IConnectionLifetimeNotificationFeature, IDisposable
    {
        private readonly CancellationTokenSource requested = new();

        public FakeLifetime() => ConnectionClosedRequested = requested.Token;

        public CancellationToken ConnectionClosedRequested { get; set; }

        public void RequestClose() => requested.Cancel();

        public void Dispose() => requested.Dispose();
    }
}
