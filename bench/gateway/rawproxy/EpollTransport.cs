using System.IO.Pipelines;
using System.Net;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using System.Threading.Tasks.Sources;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using static Libc;

// RAW_MODE=econn: the `conn` form (a Kestrel connection middleware on transport pipes) on a Kestrel transport of its
// own: an epoll loop per core (libc through P/Invoke, edge-triggered) instead of .NET's sockets. A connection reads only
// when epoll reported it readable and stops at a short read, so no read finds nothing. Received bytes go into the
// input pipe and its reader runs inline on the loop thread; the output pipe's reader (the send loop) runs inline on
// the thread that flushed, which sends at once. The model-server side stays on .NET sockets, as in `conn`.
// An experiment: no TLS, IPv4 loopback only, no connection limits or timeouts.
internal sealed class EpollTransportFactory : IConnectionListenerFactory
{
    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IConnectionListener>(new EpollListener((IPEndPoint)endpoint));
}

internal sealed class EpollListener : IConnectionListener
{
    private readonly Channel<ConnectionContext> accepted = Channel.CreateUnbounded<ConnectionContext>();

    public EpollListener(IPEndPoint endpoint)
    {
        EndPoint = endpoint;
        var loops = int.TryParse(Environment.GetEnvironmentVariable("RAW_LOOPS"), out var l) && l > 0 ? l : Environment.ProcessorCount;
        for (var i = 0; i < loops; i++)
        {
            var loop = new EpollLoop(Listen(endpoint.Port), accepted.Writer);
            new Thread(loop.Run) { IsBackground = true, Name = "econn-" + i }.Start();
        }
    }

    public EndPoint EndPoint { get; }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await accepted.Reader.ReadAsync(cancellationToken);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        accepted.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => UnbindAsync();
}

internal sealed unsafe class EpollLoop(int listener, ChannelWriter<ConnectionContext> accepted)
{
    private readonly int ep = Check(epoll_create1(0), "epoll_create1");
    private readonly IEpollHandler?[] byFd = new IEpollHandler?[1 << 16];
    private long ids;

    public void Run()
    {
        var ev = new EpollEvent { Events = EPOLLIN, Data = ulong.MaxValue };
        Check(epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev), "epoll_ctl listener");
        var events = new EpollEvent[256];
        while (true)
        {
            var n = Wait(ep, events);
            for (var i = 0; i < n; i++)
            {
                if (events[i].Data == ulong.MaxValue)
                {
                    Accept();
                    continue;
                }
                if (byFd[(int)events[i].Data] is not { } c) continue;
                var what = events[i].Events;
                if ((what & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) c.Writable();
                if ((what & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) != 0) c.Readable();
            }
        }
    }

    private void Accept()
    {
        while (true)
        {
            var fd = accept4(listener, null, null, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) return;
            var one = 1;
            _ = setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, 4);
            var c = new EpollConnection(fd, this, "econn-" + Environment.CurrentManagedThreadId + "-" + ++ids);
            Add(fd, c);
            c.Start();
            accepted.TryWrite(c);
        }
    }

    /// <summary>Watches <paramref name="fd"/> (non-blocking) for <paramref name="handler"/>, edge-triggered; any thread.</summary>
    public void Add(int fd, IEpollHandler handler)
    {
        byFd[fd] = handler;
        var ev = new EpollEvent { Events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, Data = (ulong)fd };
        Check(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), "epoll_ctl");
    }

    public void Forget(int fd) => byFd[fd] = null;
}

/// <summary>What the loop calls, on its thread, when epoll reports a socket.</summary>
internal interface IEpollHandler
{
    void Readable();
    void Writable();
}

internal sealed class EpollConnection : ConnectionContext, IEpollHandler, IConnectionIdFeature, IConnectionTransportFeature,
    IConnectionItemsFeature, IConnectionLifetimeFeature, IDuplexPipe
{
    private static readonly PipeOptions InputOptions = new(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: 1 << 20, resumeWriterThreshold: 1 << 19, useSynchronizationContext: false);
    private static readonly PipeOptions OutputOptions = new(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: 1 << 20, resumeWriterThreshold: 1 << 19, useSynchronizationContext: false);
    private readonly int fd;
    private readonly EpollLoop loop;
    private readonly Pipe input = new(InputOptions);
    private readonly Pipe output = new(OutputOptions);
    private readonly SemaphoreSlim writable = new(0, 1);
    private readonly CancellationTokenSource closed = new();
    private readonly Lock reading = new();
    private int wantWrite;
    private bool inputDone;
    private bool flushPending;
    private Task sending = Task.CompletedTask;
    private int disposed;

    public EpollConnection(int fd, EpollLoop loop, string id)
    {
        this.fd = fd;
        this.loop = loop;
        ConnectionId = id;
        Features = new FeatureCollection();
        Features.Set<IConnectionIdFeature>(this);
        Features.Set<IConnectionTransportFeature>(this);
        Features.Set<IConnectionItemsFeature>(this);
        Features.Set<IConnectionLifetimeFeature>(this);
        ConnectionClosed = closed.Token;
    }

    public EpollLoop Loop => loop;

    /// <summary>efull: the model-server connection of this client goes on the same loop.</summary>
    public bool UpstreamOnLoop { get; } = Environment.GetEnvironmentVariable("RAW_MODE") == "efull";

    public override string ConnectionId { get; set; }
    public override IFeatureCollection Features { get; }
    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();
    public override IDuplexPipe Transport { get; set; } = null!;
    public override CancellationToken ConnectionClosed { get; set; }
    PipeReader IDuplexPipe.Input => input.Reader;
    PipeWriter IDuplexPipe.Output => output.Writer;

    public void Start()
    {
        Transport = this;
        sending = SendLoopAsync();
    }

    /// <summary>On the loop thread when epoll reports bytes or a close; reads until a short read.</summary>
    public unsafe void Readable()
    {
        lock (reading)
        {
            if (inputDone || flushPending) return; // a pending flush re-reads when it completes
            while (true)
            {
                var mem = input.Writer.GetMemory(1);
                nint n;
                fixed (byte* p = mem.Span)
                {
                    n = recv(fd, p, mem.Length, 0);
                }
                if (n > 0)
                {
                    input.Writer.Advance((int)n);
                    if (n < mem.Length) break;
                    continue;
                }
                var errno = n == 0 ? 0 : Marshal.GetLastPInvokeError();
                if (errno == EINTR) continue;
                if (errno == EAGAIN) break;
                inputDone = true;
                input.Writer.Complete(errno == 0 ? null : new ConnectionResetException($"recv: errno {errno}"));
                closed.Cancel();
                return;
            }
            var flush = input.Writer.FlushAsync();
            if (!flush.IsCompleted)
            {
                flushPending = true;
                flush.AsTask().ContinueWith(_ =>
                {
                    lock (reading)
                    {
                        flushPending = false;
                    }
                    Readable(); // edge-triggered: bytes may have come while the reader was behind
                }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            else
            {
                _ = flush.Result;
            }
        }
    }

    /// <summary>On the loop thread when the socket has room again.</summary>
    public void Writable() => Room.Signal(ref wantWrite, writable);

    private async Task SendLoopAsync()
    {
        var reader = output.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync();
                foreach (var segment in result.Buffer)
                {
                    var sent = 0;
                    while (sent < segment.Length)
                    {
                        Volatile.Write(ref wantWrite, 1);
                        var n = Send(segment[sent..]);
                        if (n > 0)
                        {
                            sent += n;
                            continue;
                        }
                        await writable.WaitAsync();
                    }
                }
                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled) break;
            }
        }
        catch (IOException)
        {
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    private int Send(ReadOnlyMemory<byte> bytes) => Room.Send(fd, bytes);

    public override void Abort(ConnectionAbortedException abortReason)
    {
        _ = shutdown(fd, 2);
        output.Reader.CancelPendingRead();
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1) return;
        await output.Writer.CompleteAsync();
        await sending;
        await input.Reader.CompleteAsync();
        lock (reading)
        {
            inputDone = true;
        }
        loop.Forget(fd);
        _ = close(fd);
        writable.Dispose(); // `closed` stays undisposed: its Cancel may run callbacks that end in this method
        await base.DisposeAsync();
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int shutdown(int fd, int how);
}

/// <summary>
/// efull: a model-server connection on an econn loop. A receive reads at once only while the socket may hold bytes
/// (an EPOLLIN edge since the last short read); otherwise it waits for the edge and the loop thread reads and
/// completes it inline. Sends go at once; a full socket waits for EPOLLOUT.
/// </summary>
internal sealed class EpollSocket : IEpollHandler, IUpstream, IValueTaskSource<int>, IDisposable
{
    private const int Again = -2;
    private readonly int fd;
    private readonly EpollLoop loop;
    private readonly Lock gate = new();
    private readonly SemaphoreSlim writable = new(0, 1);
    private ManualResetValueTaskSourceCore<int> core; // continuations run where the result is set: on the loop
    private Memory<byte> waitingFor;
    private bool waiting;
    private bool ready;
    private int wantWrite;

    public unsafe EpollSocket(EpollLoop loop, int port)
    {
        this.loop = loop;
        fd = Check(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
        var one = 1;
        Check(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, 4), "TCP_NODELAY");
        var addr = Loopback(port);
        Check(connect(fd, &addr, sizeof(SockAddrIn)), "connect"); // loopback: blocking is quick
        Check(fcntl(fd, 4 /* F_SETFL */, 0x800 /* O_NONBLOCK */), "fcntl");
        loop.Add(fd, this);
    }

    public ValueTask<int> ReceiveAsync(Memory<byte> buffer)
    {
        lock (gate)
        {
            if (ready)
            {
                var n = TryReceive(buffer);
                if (n != Again) return new ValueTask<int>(n);
            }
            waitingFor = buffer;
            waiting = true;
            core.Reset();
            return new ValueTask<int>(this, core.Version);
        }
    }

    public void Readable()
    {
        int n;
        lock (gate)
        {
            ready = true;
            if (!waiting) return;
            try
            {
                n = TryReceive(waitingFor);
            }
            catch (IOException e)
            {
                waiting = false;
                core.SetException(e);
                return;
            }
            if (n == Again) return;
            waiting = false;
            waitingFor = default;
        }
        core.SetResult(n);
    }

    private unsafe int TryReceive(Memory<byte> buffer)
    {
        nint n;
        fixed (byte* p = buffer.Span)
        {
            n = recv(fd, p, buffer.Length, 0);
        }
        if (n >= 0)
        {
            if (n < buffer.Length) ready = false; // drained: the next bytes bring an edge
            return (int)n;
        }
        var errno = Marshal.GetLastPInvokeError();
        if (errno is EAGAIN or EINTR)
        {
            ready = false;
            return Again;
        }
        throw new IOException($"recv: errno {errno}");
    }

    public ValueTask<int> SendAsync(ReadOnlyMemory<byte> bytes)
    {
        var total = bytes.Length;
        while (bytes.Length > 0)
        {
            Volatile.Write(ref wantWrite, 1);
            var n = TrySend(bytes);
            if (n == 0) return SendRestAsync(bytes, total);
            bytes = bytes[n..];
        }
        return new ValueTask<int>(total);
    }

    private async ValueTask<int> SendRestAsync(ReadOnlyMemory<byte> bytes, int total)
    {
        while (bytes.Length > 0)
        {
            await writable.WaitAsync();
            Volatile.Write(ref wantWrite, 1);
            bytes = bytes[TrySend(bytes)..];
        }
        return total;
    }

    private int TrySend(ReadOnlyMemory<byte> bytes) => Room.Send(fd, bytes);

    public void Writable() => Room.Signal(ref wantWrite, writable);

    int IValueTaskSource<int>.GetResult(short token) => core.GetResult(token);
    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => core.GetStatus(token);
    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        core.OnCompleted(continuation, state, token, flags);

    public void Dispose()
    {
        loop.Forget(fd);
        _ = close(fd);
        writable.Dispose();
    }
}

internal static class Room
{
    /// <summary>One send: the bytes the socket took, 0 when it is full (EAGAIN).</summary>
    public static unsafe int Send(int fd, ReadOnlyMemory<byte> bytes)
    {
        nint n;
        fixed (byte* p = bytes.Span)
        {
            n = send(fd, p, bytes.Length, MSG_NOSIGNAL);
        }
        if (n >= 0) return (int)n;
        var errno = Marshal.GetLastPInvokeError();
        return errno is EAGAIN or EINTR ? 0 : throw new IOException($"send: errno {errno}");
    }

    /// <summary>Wakes a sender that found its socket full (<paramref name="wantWrite"/> set), once.</summary>
    public static void Signal(ref int wantWrite, SemaphoreSlim writable)
    {
        if (Interlocked.Exchange(ref wantWrite, 0) == 1 && writable.CurrentCount == 0)
        {
            try
            {
                writable.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        }
    }
}
