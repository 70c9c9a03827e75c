using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;
using Microsoft.Win32.SafeHandles;

namespace Atoll.Server.Gateway;

/// <summary>
/// A TCP connection to a model server on the gateway's own <see cref="EpollLoop"/>, as a <see cref="Stream"/> for
/// <see cref="Http1Connection"/>. A read returns at once while the socket may hold bytes (epoll reported them and no
/// read since came back short); otherwise it waits for epoll, and the loop thread reads and completes it: inline on
/// that thread with <see cref="Inline"/> (the gateway's <see cref="GatewayOptions.InlineIo"/>), else on the thread
/// pool. A write sends at once; a full socket waits for epoll to report room.
/// <para>
/// One read and one write may be outstanding at a time, as on <see cref="NetworkStream"/>. Disposing fails a pending
/// read or write with an <see cref="IOException"/>; a cancelled token fails them with an
/// <see cref="OperationCanceledException"/> and leaves the connection open. The socket's handle is a
/// <see cref="SafeHandle"/>: a system call under way keeps the descriptor from being closed and reused under it.
/// </para>
/// </summary>
internal sealed class EpollStream : Stream, IEpollHandler, IValueTaskSource<int>
{
    private const int Again = LinuxSocket.Again;

    private readonly SafeFileHandle socket;
    private readonly EpollLoop loop;
    private ulong key; // 0 until the socket is on the loop
    private readonly Lock gate = new();
    private ManualResetValueTaskSourceCore<int> read;
    private Memory<byte> readInto;
    private bool readWaiting;
    private CancellationTokenRegistration readCancel;
    private CancellationToken readToken;
    private bool readReady;
    private bool peerClosed; // epoll reported the peer's close or an error: reads never wait again
    private readonly SendRoom room = new();
    private bool disposed;

    private EpollStream(SafeFileHandle socket)
    {
        this.socket = socket;
        loop = EpollLoop.Next();
    }

    /// <summary>Whether connections can go on the gateway's epoll loops here (<see cref="EpollLoop.Available"/>).</summary>
    public static bool Supported => EpollLoop.Available;

    /// <summary>
    /// Completions run on the loop's thread (set once connected: the connect, and a TLS handshake over it, complete
    /// on the thread pool).
    /// </summary>
    public bool Inline { get; set; }

    /// <summary>
    /// Connects to <paramref name="host"/> (a name is resolved, its addresses tried in turn) on
    /// <paramref name="port"/>. Fails as the runtime's sockets do: a <see cref="SocketException"/> with the last
    /// address's error, or an <see cref="OperationCanceledException"/> when <paramref name="ct"/> fires first.
    /// </summary>
    public static async ValueTask<EpollStream> ConnectAsync(string host, int port, CancellationToken ct)
    {
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct).ConfigureAwait(false);
        SocketException? failed = null;
        foreach (var address in addresses)
        {
            if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            {
                continue;
            }
            EpollStream stream;
            try
            {
                stream = new EpollStream(LinuxSocket.Open(address.AddressFamily));
            }
            catch (SocketException e)
            {
                failed = e; // e.g. no IPv6 on this machine: the next address may still do
                continue;
            }
            try
            {
                var errno = LinuxSocket.StartConnect(stream.socket, LinuxSocket.Address(address, port));
                if (errno is 0 or LinuxSocket.EINPROGRESS)
                {
                    // Only now: a socket not yet connecting reports itself writable (and hung up) at once, which
                    // would pass for the connect's end. Added while connecting, epoll reports the real end, even one
                    // that came before the add.
                    stream.key = stream.loop.Add(stream.socket, stream);
                }
                if (errno == LinuxSocket.EINPROGRESS)
                {
                    await stream.WaitWritableAsync(ct).ConfigureAwait(false);
                    errno = LinuxSocket.ConnectResult(stream.socket);
                }
                if (errno == 0)
                {
                    return stream;
                }
                failed = LinuxSocket.Error(errno);
            }
            catch
            {
                stream.Dispose();
                throw;
            }
            stream.Dispose();
        }
        throw failed ?? new SocketException((int)SocketError.HostNotFound);
    }

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }
        short version;
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (readWaiting)
            {
                throw new InvalidOperationException("A read is already waiting on this connection.");
            }
            if (readReady)
            {
                var n = TryReceive(buffer, out var error);
                if (error is not null)
                {
                    return ValueTask.FromException<int>(error);
                }
                if (n != Again)
                {
                    return new ValueTask<int>(n);
                }
            }
            read.Reset();
            read.RunContinuationsAsynchronously = !Inline;
            readInto = buffer;
            readWaiting = true;
            version = read.Version;
            // Under the lock, so that a completion cannot miss the registration; a token cancelled meanwhile runs
            // the callback here, on this thread, which may enter the lock again.
            readToken = cancellationToken;
            readCancel = cancellationToken.CanBeCanceled
                ? cancellationToken.UnsafeRegister(static (s, t) => ((EpollStream)s!).CancelRead(t), this)
                : default;
        }
        return new ValueTask<int>(this, version);
    }

    public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        await ReadAsync(buffer.AsMemory(offset, count), cancellationToken).ConfigureAwait(false);

    /// <summary>Not supported: waiting here on the loop's thread, where inline completions run, would never end.</summary>
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("EpollStream reads asynchronously only.");

    /// <summary>
    /// One <c>recv</c> into <paramref name="buffer"/>: the bytes read (0 at the peer's close), or
    /// <see cref="Again"/> when there were none. A short read means the socket is empty, so the next read waits for
    /// epoll, unless epoll reported the peer's close: then the end is still to be read and no report would come for
    /// it. Called under the lock.
    /// </summary>
    private int TryReceive(Memory<byte> buffer, out Exception? error)
    {
        error = null;
        if (buffer.IsEmpty)
        {
            return readReady ? 0 : Again; // a zero-byte read waits for bytes, then returns 0 (Stream's contract)
        }
        var n = LinuxSocket.Receive(socket, buffer.Span, out var failed);
        error = failed;
        if (n == Again)
        {
            readReady = peerClosed; // after a reported close there is always an end or an error to read
        }
        else if (n < buffer.Length && n > 0 && !peerClosed)
        {
            readReady = false;
        }
        return n;
    }

    public void OnReadable(bool closed)
    {
        int n;
        Exception? error;
        lock (gate)
        {
            readReady = true;
            peerClosed |= closed;
            if (!readWaiting || disposed)
            {
                return;
            }
            n = TryReceive(readInto, out error);
            if (n == Again && error is null)
            {
                return;
            }
            EndRead();
        }
        if (error is not null)
        {
            read.SetException(error);
        }
        else
        {
            read.SetResult(n);
        }
    }

    /// <summary>Ends the waiting read; under the lock. The caller completes it after leaving the lock.</summary>
    private void EndRead()
    {
        readWaiting = false;
        readInto = default;
        // Unregister, not Dispose: Dispose would wait for a callback that runs now on another thread and waits for
        // this lock. A callback that still runs finds no read waiting, or a later read under another token, which
        // it leaves alone (CancelRead compares them).
        readCancel.Unregister();
        readCancel = default;
        readToken = default;
    }

    private void CancelRead(CancellationToken ct)
    {
        lock (gate)
        {
            if (!readWaiting || readToken != ct)
            {
                return;
            }
            EndRead();
            // Not inside the canceller's Cancel(): the exchange's error path runs on the thread pool.
            read.RunContinuationsAsynchronously = true;
        }
        read.SetException(new OperationCanceledException(ct));
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }
        ObjectDisposedException.ThrowIf(disposed, this);
        try
        {
            while (!buffer.IsEmpty)
            {
                var sent = TrySend(buffer);
                if (sent == Again)
                {
                    return SendRestAsync(buffer, cancellationToken);
                }
                buffer = buffer[sent..];
            }
        }
        catch (IOException e)
        {
            return ValueTask.FromException(e); // in the task, as the runtime's streams report a failed send
        }
        catch (ObjectDisposedException e)
        {
            return ValueTask.FromException(new IOException("The connection was closed while a write was under way.", e));
        }
        return ValueTask.CompletedTask;
    }

    private async ValueTask SendRestAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct)
    {
        while (!buffer.IsEmpty)
        {
            var sent = TrySend(buffer);
            if (sent == Again)
            {
                await WaitWritableAsync(ct).ConfigureAwait(false);
                continue;
            }
            buffer = buffer[sent..];
        }
    }

    private int TrySend(ReadOnlyMemory<byte> buffer) => LinuxSocket.Send(socket, buffer.Span);

    /// <summary>
    /// Waits for epoll to report room (or the connect's end) since the last time this was called; at once if it did
    /// already.
    /// </summary>
    private Task WaitWritableAsync(CancellationToken ct) => room.WaitAsync().WaitAsync(ct);

    public void OnWritable() => room.Signal();

    /// <summary>Not supported, as <see cref="Read"/>.</summary>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("EpollStream writes asynchronously only.");

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            bool failRead;
            lock (gate)
            {
                if (disposed)
                {
                    return;
                }
                disposed = true;
                failRead = readWaiting;
                if (failRead)
                {
                    EndRead();
                    read.RunContinuationsAsynchronously = true; // not inside Dispose's caller
                }
            }
            if (key != 0)
            {
                loop.Remove(key); // before the close: an event for the old descriptor then finds no handler
            }
            socket.Dispose(); // closes once no system call holds the handle
            if (failRead)
            {
                read.SetException(new IOException("The connection was closed while a read waited."));
            }
            room.Close(new IOException("The connection was closed while a write waited."));
        }
        base.Dispose(disposing);
    }

    int IValueTaskSource<int>.GetResult(short token) => read.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => read.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        read.OnCompleted(continuation, state, token, flags);
}
