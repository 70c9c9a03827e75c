using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Atoll.Server.Gateway;

/// <summary>
/// Deadlines of a connection's reads and writes, checked on Kestrel's once-a-second connection heartbeat (as
/// Kestrel checks its own timeouts), so an operation costs no timer. A read still pending past its deadline is
/// cancelled, and so is a read when the server asks its connections to close (<see cref="CloseRequested"/>), so
/// an idle keep-alive connection does not hold up shutdown. A write (flush) that the client has not taken for
/// the write limit aborts the connection: a client that stops reading cannot hold an endpoint's slot.
/// </summary>
internal sealed class Http1Deadlines : IDisposable
{
    private readonly ConnectionContext connection;
    private readonly long writeLimit;
    private readonly CancellationTokenRegistration closing;
    private readonly ITimer? fallback;
    private long readDeadline = long.MaxValue;
    private long writeDeadline = long.MaxValue;
    private volatile bool timedOut;
    private volatile bool closeRequested;

    public Http1Deadlines(ConnectionContext connection, IConnectionLifetimeNotificationFeature? lifetime, IConnectionHeartbeatFeature? heartbeat, TimeSpan writeLimit)
    {
        this.connection = connection;
        this.writeLimit = (long)writeLimit.TotalMilliseconds;
        Input = connection.Transport.Input;
        if (heartbeat is not null)
        {
            heartbeat.OnHeartbeat(static s => ((Http1Deadlines)s).Check(), this);
        }
        else
        {
            fallback = TimeProvider.System.CreateTimer(static s => ((Http1Deadlines)s!).Check(), this, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        }
        if (lifetime is not null)
        {
            closing = lifetime.ConnectionClosedRequested.UnsafeRegister(static s =>
            {
                var self = (Http1Deadlines)s!;
                self.closeRequested = true;
                self.Input.CancelPendingRead();
            }, this);
        }
    }

    public PipeReader Input { get; }

    public bool TimedOut => timedOut;

    public bool CloseRequested => closeRequested;

    /// <summary>
    /// A read of <see cref="Input"/> that is cancelled when still pending after <paramref name="limit"/>; call
    /// <see cref="ReadDone"/> once it completes (a read that throws ends the connection, and <see cref="Dispose"/>
    /// clears the deadline). Not an async method of its own: at 64 requests in flight its state machine was one
    /// allocation per read (the pooled builder keeps one per thread).
    /// </summary>
    public ValueTask<ReadResult> ReadAsync(TimeSpan limit)
    {
        Volatile.Write(ref readDeadline, Environment.TickCount64 + (long)limit.TotalMilliseconds);
        return Input.ReadAsync();
    }

    /// <summary>The read started by <see cref="ReadAsync"/> completed (or failed): no deadline until the next one.</summary>
    public void ReadDone() => Volatile.Write(ref readDeadline, long.MaxValue);

    /// <summary>A flush did not complete at once: the client has this long to take the bytes.</summary>
    public void WriteWaiting() => Volatile.Write(ref writeDeadline, Environment.TickCount64 + writeLimit);

    public void WriteDone() => Volatile.Write(ref writeDeadline, long.MaxValue);

    private void Check()
    {
        var now = Environment.TickCount64;
        if (now > Volatile.Read(ref readDeadline))
        {
            timedOut = true;
            Input.CancelPendingRead();
        }
        if (now > Volatile.Read(ref writeDeadline))
        {
            WriteDone();
            connection.Abort(new ConnectionAbortedException("The client did not read the answer; the gateway closed the connection."));
        }
    }

    public void Dispose()
    {
        Volatile.Write(ref readDeadline, long.MaxValue);
        WriteDone();
        fallback?.Dispose();
        closing.Dispose();
    }
}
