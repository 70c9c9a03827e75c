using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Atoll.Server.Gateway;

/// <summary>
/// A client connection of <see cref="EpollTransportFactory"/>: Kestrel's transport pipes over a socket on the
/// gateway's <see cref="EpollLoop"/>, instead of the runtime's socket engine. The socket is read only after epoll
/// reported bytes, until a read comes back short (nginx's rule; the runtime tries a read first, which finds nothing
/// on a keep-alive connection), and a request and its answer stay on one thread.
/// <para>
/// <b>Reads</b> run on the loop's thread when <see cref="Inline"/> (the gateway switches a connection that carries
/// forwarded requests, as <see cref="InlineIo"/> does runtime sockets), else on the thread pool: Kestrel's requests
/// (control API, store, uploads) may block, and so never run on a loop. The input pipe's reader runs where the bytes
/// were flushed, when the pass may run it there (else on the thread pool: never Kestrel's requests on a loop). A pass
/// hands on at most 64 KiB at a time, and a reader that falls behind by <see cref="MaxBuffered"/> pauses reading until
/// it catches up.
/// </para>
/// <para>
/// <b>Writes</b> are sent on the thread that flushed the output pipe; a full socket waits for epoll to report room,
/// and the writer pauses at <see cref="MaxUnsent"/> unsent bytes. The gateway's own front may also send a small
/// answer itself, past the pipe, when the pipe has nothing left unsent (<see cref="TrySendNow"/>).
/// </para>
/// <para>
/// <b>Closing</b> follows Kestrel's socket transport: when the output ends (or on <see cref="Abort"/>) the socket is
/// shut down both ways; the input ends at the peer's close, an error or that shutdown, with the shutdown's reason;
/// <see cref="ConnectionClosed"/> fires on the thread pool once the input ended. The descriptor is closed in
/// <see cref="DisposeAsync"/>, after both sides ended.
/// </para>
/// </summary>
internal sealed class EpollConnection : ConnectionContext, IEpollHandler, IThreadPoolWorkItem, IDuplexPipe,
    IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature, IConnectionLifetimeFeature,
    IConnectionEndPointFeature, IMemoryPoolFeature
{
    /// <summary>Received bytes that may wait for their reader before reading pauses (Kestrel's default).</summary>
    public const int MaxBuffered = 1024 * 1024;

    /// <summary>Bytes of an answer that may wait to be sent before its writer pauses (Kestrel's default).</summary>
    public const int MaxUnsent = 64 * 1024;

    /// <summary>Bytes a read pass takes before it hands them on: a fast sender cannot hold the loop or grow the pipe.</summary>
    private const int MaxPerFlush = 64 * 1024;

    /// <summary>The least room a read asks of the input pipe (half a pool block, as Kestrel's socket transport).</summary>
    private const int MinReadSize = 2048;

    private static long ids;

    private readonly Socket socket;
    private readonly SafeHandle handle;
    private readonly EpollLoop loop;
    private readonly Pipe input;
    private readonly Pipe output;
    private readonly CancellationTokenSource closed = new();
    private readonly TaskCompletionSource inputEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action resumeReading;
    private readonly Lock gate = new();
    private ulong key;
    private bool passRunning; // a read pass runs or is queued; only one at a time
    private bool passAgain; // epoll reported the socket while a pass ran: it goes round once more
    private volatile bool peerClosed; // epoll reported the peer's close or an error: read until the end
    private bool inputDone;
    private bool shut;
    private Exception? shutdownReason;
    private readonly SendRoom room = new();
    private ConfiguredValueTaskAwaitable<FlushResult>.ConfiguredValueTaskAwaiter pausedFlush;
    private Task sending = Task.CompletedTask;
    private long unsent; // bytes handed to the output pipe (Queued) and not yet sent by the send loop
    private int disposed;
    private volatile bool inline;

    private EpollConnection(Socket socket, MemoryPool<byte> pool)
    {
        this.socket = socket;
        handle = socket.SafeHandle;
        loop = EpollLoop.Next();
        MemoryPool = pool;
        // The input's reader runs where a read pass allows it (ReaderScheduler), the output's reader (the send loop)
        // where the answer is flushed; a paused writer resumes on the pool.
        input = new Pipe(new PipeOptions(pool, ReaderScheduler.Instance, PipeScheduler.ThreadPool, MaxBuffered, MaxBuffered / 2, useSynchronizationContext: false));
        output = new Pipe(new PipeOptions(pool, PipeScheduler.Inline, PipeScheduler.ThreadPool, MaxUnsent, MaxUnsent / 2, useSynchronizationContext: false));
        resumeReading = ResumeReading;
        ConnectionId = "E" + Interlocked.Increment(ref ids).ToString("X8", System.Globalization.CultureInfo.InvariantCulture);
        LocalEndPoint = socket.LocalEndPoint;
        RemoteEndPoint = socket.RemoteEndPoint;
        ConnectionClosed = closed.Token;
        Transport = this;
        Features = new FeatureCollection();
        Features.Set<IConnectionIdFeature>(this);
        Features.Set<IConnectionTransportFeature>(this);
        Features.Set<IConnectionItemsFeature>(this);
        Features.Set<IConnectionLifetimeFeature>(this);
        Features.Set<IConnectionEndPointFeature>(this);
        Features.Set<IMemoryPoolFeature>(this);
        Features.Set(this); // for InlineIo.TrySet
    }

    /// <summary>
    /// Takes over an accepted <paramref name="socket"/> (made non-blocking; the runtime never waits on it) and starts
    /// reading and sending.
    /// </summary>
    public static EpollConnection Start(Socket socket, MemoryPool<byte> pool)
    {
        socket.NoDelay = true;
        socket.Blocking = false;
        var connection = new EpollConnection(socket, pool);
        connection.sending = connection.SendLoopAsync();
        // Last: epoll reports what is there already (bytes that came with the connect, and room to send).
        connection.key = connection.loop.Add(connection.handle, connection);
        return connection;
    }

    /// <summary>
    /// Whether reads (and so the code that reads the input pipe) run on the loop's thread instead of the thread pool.
    /// Only for code that never blocks: the gateway's forwarded requests.
    /// </summary>
    public bool Inline
    {
        get => inline;
        set => inline = value;
    }

    public override string ConnectionId { get; set; }
    public override IFeatureCollection Features { get; }
    public override IDictionary<object, object?> Items { get; set; } = new ConnectionItems();
    public override IDuplexPipe Transport { get; set; }
    public override CancellationToken ConnectionClosed { get; set; }
    public override EndPoint? LocalEndPoint { get; set; }
    public override EndPoint? RemoteEndPoint { get; set; }
    public MemoryPool<byte> MemoryPool { get; }
    PipeReader IDuplexPipe.Input => input.Reader;
    PipeWriter IDuplexPipe.Output => output.Writer;

    /// <summary>On the loop's thread: bytes, the peer's close or an error arrived.</summary>
    public void OnReadable(bool closed)
    {
        if (closed)
        {
            peerClosed = true;
        }
        if (!ClaimPass())
        {
            return;
        }
        if (inline)
        {
            ReadPass();
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    void IThreadPoolWorkItem.Execute() => ReadPass();

    /// <summary>
    /// Whether the caller starts a read pass: false when the input ended, or when a pass runs (it then goes round
    /// once more).
    /// </summary>
    private bool ClaimPass()
    {
        lock (gate)
        {
            if (inputDone)
            {
                return false;
            }
            if (passRunning)
            {
                passAgain = true;
                return false;
            }
            passRunning = true;
            return true;
        }
    }

    /// <summary>
    /// Reads until a read comes back short (or <see cref="MaxPerFlush"/> bytes came), hands the bytes to the input
    /// pipe's reader, and goes round again while there may be more. Ends the input at the peer's close or an error.
    /// </summary>
    private void ReadPass()
    {
        try
        {
            var writer = input.Writer;
            while (true)
            {
                IOException? error = null;
                var end = false;
                var more = false;
                var taken = 0;
                while (true)
                {
                    var memory = writer.GetMemory(MinReadSize);
                    var n = LinuxSocket.Receive(handle, memory.Span, out error);
                    if (error is not null || n == 0)
                    {
                        end = true;
                        break;
                    }
                    if (n == LinuxSocket.Again)
                    {
                        break;
                    }
                    writer.Advance(n);
                    taken += n;
                    if (n < memory.Length && !peerClosed)
                    {
                        break; // the socket is empty: the next bytes bring a report
                    }
                    if (taken >= MaxPerFlush)
                    {
                        more = true; // no report comes for what is left: this pass goes round for it
                        break;
                    }
                }
                if (end)
                {
                    EndInput(error is null ? null : ReadError(error));
                    return;
                }
                if (more)
                {
                    lock (gate)
                    {
                        passAgain = true;
                    }
                }
                ConfiguredValueTaskAwaitable<FlushResult>.ConfiguredValueTaskAwaiter flush;
                using (ReaderScheduler.Allow(inline || Thread.CurrentThread.IsThreadPoolThread))
                {
#pragma warning disable CA2012 // consumed once: awaited through its awaiter below, or its result taken when complete
                    flush = writer.FlushAsync().ConfigureAwait(false).GetAwaiter();
#pragma warning restore CA2012
                }
                if (!flush.IsCompleted)
                {
                    // The reader is MaxBuffered behind: reading waits for it (its AdvanceTo resumes on the pool).
                    pausedFlush = flush;
                    flush.UnsafeOnCompleted(resumeReading);
                    return;
                }
                if (!PassDone(flush.GetResult()))
                {
                    return;
                }
            }
        }
        catch (Exception e)
        {
            // Not onto the loop's thread (or the pool's): e.g. a reader that completed the input with an error,
            // which the pipe hands back to its writer. The connection ends with it, as in Kestrel's transport.
            EndInput(e);
        }
    }

    private void ResumeReading()
    {
        bool again;
        try
        {
            again = PassDone(pausedFlush.GetResult());
        }
        catch (Exception e)
        {
            EndInput(e);
            return;
        }
        if (again)
        {
            ReadPass();
        }
    }

    /// <summary>A receive error as Kestrel's transport reports it: resets as a <see cref="ConnectionResetException"/>.</summary>
    private static Exception ReadError(IOException error) =>
        error.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown }
            ? new ConnectionResetException(error.Message, error)
            : error;

    /// <summary>After a flush: whether the pass goes round again (epoll reported the socket meanwhile).</summary>
    private bool PassDone(FlushResult flushed)
    {
        if (flushed.IsCompleted || flushed.IsCanceled)
        {
            EndInput(null); // the reader left, or the connection was shut down
            return false;
        }
        lock (gate)
        {
            if (!passAgain)
            {
                passRunning = false;
                return false;
            }
            passAgain = false;
        }
        return true;
    }

    /// <summary>Ends the input (with the shutdown's reason, if there was one) and fires <see cref="ConnectionClosed"/>.</summary>
    private void EndInput(Exception? error)
    {
        Exception? reason;
        lock (gate)
        {
            if (inputDone)
            {
                return;
            }
            inputDone = true;
            reason = shutdownReason ?? error;
        }
        using (ReaderScheduler.Allow(inline || Thread.CurrentThread.IsThreadPoolThread))
        {
            input.Writer.Complete(reason);
        }
        ThreadPool.UnsafeQueueUserWorkItem(static c =>
        {
            try
            {
                c.closed.Cancel();
            }
            catch (AggregateException)
            {
                // A callback's failure is its owner's; the connection ends either way.
            }
            c.inputEnded.TrySetResult();
        }, this, preferLocal: false);
    }

    private async Task SendLoopAsync()
    {
        var reader = output.Reader;
        Exception? reason = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled)
                {
                    break; // aborted
                }
                var buffer = result.Buffer;
                var length = buffer.Length; // read before AdvanceTo: the pipe then reuses the buffer's segments
                if (!buffer.IsEmpty)
                {
                    await SendAsync(buffer).ConfigureAwait(false);
                }
                reader.AdvanceTo(buffer.End);
                Interlocked.Add(ref unsent, -length);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (IOException e)
        {
            reason = new ConnectionResetException(e.Message, e);
        }
        catch (Exception e)
        {
            reason = e; // the application completed the output with an error: the connection ends with it
        }
        finally
        {
            Shutdown(reason);
            await reader.CompleteAsync().ConfigureAwait(false);
            input.Writer.CancelPendingFlush(); // a paused read pass ends now
        }
    }

    /// <summary>Sends <paramref name="buffer"/> at once while the socket takes it; the rest waits for room.</summary>
    private ValueTask SendAsync(ReadOnlySequence<byte> buffer)
    {
        var position = buffer.Start;
        var consumed = 0L;
        while (buffer.TryGet(ref position, out var segment))
        {
            while (!segment.IsEmpty)
            {
                var n = LinuxSocket.Send(handle, segment.Span);
                if (n == LinuxSocket.Again)
                {
                    return SendRestAsync(buffer.Slice(consumed));
                }
                segment = segment[n..];
                consumed += n;
            }
        }
        return ValueTask.CompletedTask;
    }

    private async ValueTask SendRestAsync(ReadOnlySequence<byte> rest)
    {
        foreach (var part in rest)
        {
            var segment = part;
            while (!segment.IsEmpty)
            {
                var n = LinuxSocket.Send(handle, segment.Span);
                if (n == LinuxSocket.Again)
                {
                    await room.WaitAsync().ConfigureAwait(false);
                    continue;
                }
                segment = segment[n..];
            }
        }
    }

    /// <summary>
    /// Sends <paramref name="bytes"/> on the caller's thread, past the output pipe, when everything written through
    /// the pipe before was sent (<see cref="Queued"/>): the count the socket took at once (0 when it is full), the
    /// rest being the caller's to write into the pipe, which the send loop then sends; -1 when the pipe still holds
    /// bytes, which go first. For the gateway's own HTTP/1.1 front (<see cref="Http1FrontClient"/>), the only writer
    /// of the connection while it serves it: an answer of a few KB then costs one <c>send</c>, without the pipe's
    /// write, flush and send-loop turn. Throws an <see cref="IOException"/> as a send does.
    /// </summary>
    public int TrySendNow(ReadOnlySpan<byte> bytes)
    {
        if (Volatile.Read(ref unsent) != 0)
        {
            return -1;
        }
        var n = LinuxSocket.Send(handle, bytes);
        return n == LinuxSocket.Again ? 0 : n;
    }

    /// <summary>
    /// Counts <paramref name="bytes"/> the writer is about to flush into the output pipe, until the send loop sent
    /// them (<see cref="TrySendNow"/> waits for that). While <see cref="TrySendNow"/> is used on a connection, every
    /// write into its pipe must be counted so. Kestrel's own writes are not: they come only after the gateway's front
    /// handed the connection over for good, and the count then stays below 0, which keeps the direct path shut.
    /// </summary>
    public void Queued(long bytes) => Interlocked.Add(ref unsent, bytes);

    /// <summary>On the loop's thread: the socket has room again (or was shut down).</summary>
    public void OnWritable() => room.Signal();

    /// <summary>
    /// Shuts the socket down both ways, once: the client sees the end (or, for unsent bytes, a reset), the input ends
    /// with <paramref name="reason"/>, and a waiting send fails.
    /// </summary>
    private void Shutdown(Exception? reason)
    {
        lock (gate)
        {
            if (shut)
            {
                return;
            }
            shut = true;
            // Null only when the output ended normally; the input's reader then sees this when it reads on.
            shutdownReason = reason ?? new ConnectionAbortedException("The connection's output was completed.");
        }
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already reset by the peer: it is over either way.
        }
        room.Close(null); // a send waiting for room tries once more, and fails
        input.Writer.CancelPendingFlush();
        // The input ends with the shutdown even if epoll's report of it was taken by a pass that ran before: one more
        // pass reads the end. On the pool, never inside the caller (Abort may come from under Kestrel's locks).
        if (ClaimPass())
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        Shutdown(abortReason);
        output.Reader.CancelPendingRead(); // the send loop stops; unsent bytes are dropped
    }

    void IConnectionLifetimeFeature.Abort() => Abort(new ConnectionAbortedException("The connection was aborted by the application."));

    /// <summary>Called by Kestrel once the connection's middleware is done: waits for both sides, then closes.</summary>
    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            try
            {
                await input.Reader.CompleteAsync().ConfigureAwait(false);
                await output.Writer.CompleteAsync().ConfigureAwait(false);
                await sending.ConfigureAwait(false);
                await inputEnded.Task.ConfigureAwait(false);
            }
            finally
            {
                loop.Remove(key); // before the close: an event for the old descriptor then finds no handler
                socket.Dispose();
                closed.Dispose();
            }
        }
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
