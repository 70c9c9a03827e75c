using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Atoll.Server.Gateway;

namespace Atoll.Server.Tests.Gateway;

/// <summary>
/// The gateway's own epoll connections to model servers, against real loopback sockets. Every forwarded request to a
/// plain-HTTP model server runs on these (the <see cref="Http1UpstreamTests"/> run on them too); these check the
/// stream's own rules: reads only after epoll reported bytes, where completions run, cancellation, closing, a
/// socket that fills up, and connecting.
/// </summary>
public sealed class EpollStreamTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(10);

    public EpollStreamTests()
    {
        Assert.True(!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64 || EpollStream.Supported,
            "the epoll loops should run on Linux x86-64");
    }

    [Fact]
    public void The_gateway_uses_the_loops_unless_told_not_to()
    {
        using var on = new Http1Upstream(inlineIo: true);
        using var off = new Http1Upstream(inlineIo: true, epoll: false);
        Assert.Equal(EpollStream.Supported, on.Epoll);
        Assert.False(off.Epoll);
    }

    [Fact]
    public async Task Bytes_go_both_ways_and_the_peers_close_reads_as_zero()
    {
        using var pair = await PairAsync();
        await pair.Stream.WriteAsync("hello"u8.ToArray());
        Assert.Equal("hello", await ReadPeerAsync(pair.Peer, 5));

        var buffer = new byte[64];
        var waiting = pair.Stream.ReadAsync(buffer);
        Assert.False(waiting.IsCompleted, "a read with nothing sent yet completed");
        await pair.Peer.SendAsync("world"u8.ToArray());
        Assert.Equal("world", Encoding.ASCII.GetString(buffer, 0, await waiting.AsTask().WaitAsync(Guard)));

        pair.Peer.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, await pair.Stream.ReadAsync(buffer).AsTask().WaitAsync(Guard));
        Assert.Equal(0, await pair.Stream.ReadAsync(buffer).AsTask().WaitAsync(Guard)); // and stays at the end
    }

    [Fact]
    public async Task Reads_go_on_at_once_until_one_comes_back_short_then_wait_for_epoll()
    {
        using var pair = await PairAsync();
        await pair.Peer.SendAsync("0123456789"u8.ToArray());
        Assert.Equal(0, await pair.Stream.ReadAsync(Memory<byte>.Empty).AsTask().WaitAsync(Guard)); // returns once bytes are there

        var buffer = new byte[4];
        var first = pair.Stream.ReadAsync(buffer);
        Assert.True(first.IsCompleted, "bytes epoll reported were not read at once");
        Assert.Equal("0123", Encoding.ASCII.GetString(buffer, 0, await first));
        var second = pair.Stream.ReadAsync(buffer);
        Assert.True(second.IsCompleted);
        Assert.Equal("4567", Encoding.ASCII.GetString(buffer, 0, await second));
        var third = pair.Stream.ReadAsync(buffer);
        Assert.True(third.IsCompleted);
        Assert.Equal("89", Encoding.ASCII.GetString(buffer, 0, await third)); // short: the socket is empty

        var fourth = pair.Stream.ReadAsync(buffer);
        Assert.False(fourth.IsCompleted, "a read after a short one did not wait for epoll");
        await pair.Peer.SendAsync("x"u8.ToArray());
        Assert.Equal(1, await fourth.AsTask().WaitAsync(Guard));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_close_that_came_with_the_last_bytes_is_read_after_them(bool readWaits)
    {
        // Bytes and the close in one report: the read of the bytes comes back short, yet the end is still to be
        // read, and epoll reports nothing more. A stream that took the short read for an empty socket would wait
        // for ever (seen first as an answer cut short by its server that hung instead of failing).
        using var pair = await PairAsync();
        var buffer = new byte[64];
        var waiting = readWaits ? pair.Stream.ReadAsync(buffer) : default;
        await pair.Peer.SendAsync("last"u8.ToArray());
        pair.Peer.Shutdown(SocketShutdown.Send);
        if (!readWaits)
        {
            await Task.Delay(100); // both are in before the read
            waiting = pair.Stream.ReadAsync(buffer);
        }
        Assert.Equal("last", Encoding.ASCII.GetString(buffer, 0, await waiting.AsTask().WaitAsync(Guard)));
        Assert.Equal(0, await pair.Stream.ReadAsync(buffer).AsTask().WaitAsync(Guard));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_waiting_read_completes_on_the_loop_thread_only_when_inline(bool inline)
    {
        using var pair = await PairAsync();
        pair.Stream.Inline = inline;
        var (onPool, thread) = await ReadOnWhichThreadAsync(pair);
        if (inline)
        {
            Assert.False(onPool);
            Assert.StartsWith("Atoll epoll", thread);
        }
        else
        {
            Assert.True(onPool);
        }
    }

    [Fact]
    public async Task Cancelling_a_waiting_read_ends_it_and_leaves_the_connection_usable()
    {
        using var pair = await PairAsync();
        using var cancel = new CancellationTokenSource();
        var buffer = new byte[8];
        var waiting = pair.Stream.ReadAsync(buffer, cancel.Token);
        Assert.False(waiting.IsCompleted);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.AsTask().WaitAsync(Guard));

        await pair.Peer.SendAsync("after"u8.ToArray());
        var n = await pair.Stream.ReadAsync(buffer).AsTask().WaitAsync(Guard);
        Assert.Equal("after", Encoding.ASCII.GetString(buffer, 0, n));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pair.Stream.ReadAsync(buffer, cancel.Token).AsTask());
    }

    [Fact]
    public async Task Disposing_fails_a_waiting_read_with_an_IOException_and_closes_the_socket()
    {
        var pair = await PairAsync();
        var waiting = pair.Stream.ReadAsync(new byte[8]);
        pair.Stream.Dispose();
        await Assert.ThrowsAsync<IOException>(() => waiting.AsTask().WaitAsync(Guard));
        Assert.Equal(0, await pair.Peer.ReceiveAsync(new byte[8]).WaitAsync(Guard)); // the peer sees the close
        await Assert.ThrowsAsync<ObjectDisposedException>(() => pair.Stream.ReadAsync(new byte[8]).AsTask());
        pair.Dispose();
    }

    [Fact]
    public async Task A_write_larger_than_the_socket_takes_waits_for_room_and_arrives_whole()
    {
        using var pair = await PairAsync();
        var data = RandomNumberGenerator.GetBytes(8 << 20);
        var writing = pair.Stream.WriteAsync(data).AsTask();
        await Task.Delay(200);
        Assert.False(writing.IsCompleted, "8 MB fitted in the socket buffers: the test no longer fills them");

        var received = new MemoryStream();
        var buffer = new byte[64 << 10];
        while (received.Length < data.Length)
        {
            var n = await pair.Peer.ReceiveAsync(buffer).WaitAsync(Guard);
            Assert.NotEqual(0, n);
            received.Write(buffer, 0, n);
        }
        await writing.WaitAsync(Guard);
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(received.ToArray()));
    }

    [Fact]
    public async Task Connecting_to_a_port_nobody_listens_on_is_refused()
    {
        using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port; // bound, never listening
        var e = await Assert.ThrowsAsync<SocketException>(() => EpollStream.ConnectAsync("127.0.0.1", port, CancellationToken.None).AsTask());
        Assert.Equal(SocketError.ConnectionRefused, e.SocketErrorCode);
    }

    [Fact]
    public async Task Connects_by_host_name()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepting = listener.AcceptSocketAsync();
        using var stream = await EpollStream.ConnectAsync("localhost", ((IPEndPoint)listener.LocalEndpoint).Port, CancellationToken.None);
        using var peer = await accepting.WaitAsync(Guard);
        await stream.WriteAsync("by name"u8.ToArray());
        Assert.Equal("by name", await ReadPeerAsync(peer, 7));
    }

    [Fact]
    public async Task Many_connections_opened_and_closed_never_see_each_others_bytes()
    {
        // Descriptors and loop slots are reused at once: an event or a read of a closed connection must never reach
        // the next one to get its number.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(512);
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource();
        var echo = Task.Run(async () =>
        {
            while (true)
            {
                var peer = await listener.AcceptSocketAsync(stop.Token);
                _ = Task.Run(async () =>
                {
                    using (peer)
                    {
                        var b = new byte[16];
                        var n = await peer.ReceiveAsync(b);
                        await peer.SendAsync(b.AsMemory(0, n));
                    }
                });
            }
        });
        await Parallel.ForAsync(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            using var stream = await EpollStream.ConnectAsync("127.0.0.1", port, ct);
            stream.Inline = i % 2 == 0;
            var mine = Encoding.ASCII.GetBytes($"n{i:D6}");
            var pending = i % 3 == 0 ? stream.ReadAsync(new byte[16], ct) : default; // some wait before the send
            if (i % 3 == 0)
            {
                stream.Dispose(); // closed with a read waiting: that read fails, nothing else
                await Assert.ThrowsAsync<IOException>(() => pending.AsTask());
                return;
            }
            await stream.WriteAsync(mine, ct);
            var got = new byte[16];
            var total = 0;
            while (total < mine.Length)
            {
                var n = await stream.ReadAsync(got.AsMemory(total), ct).AsTask().WaitAsync(Guard, ct);
                Assert.NotEqual(0, n);
                total += n;
            }
            Assert.Equal(mine, got.AsSpan(0, total).ToArray());
        });
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => echo);
    }

    private static async Task<(bool OnPool, string? Thread)> ReadOnWhichThreadAsync(Pair pair)
    {
        var reading = Task.Run(async () =>
        {
            await pair.Stream.ReadAsync(new byte[8]).ConfigureAwait(false);
            return (Thread.CurrentThread.IsThreadPoolThread, Thread.CurrentThread.Name);
        });
        await Task.Delay(100); // the read waits for epoll
        await pair.Peer.SendAsync("go"u8.ToArray());
        return await reading.WaitAsync(Guard);
    }

    private static async Task<string> ReadPeerAsync(Socket peer, int count)
    {
        var buffer = new byte[count];
        var got = 0;
        while (got < count)
        {
            var n = await peer.ReceiveAsync(buffer.AsMemory(got)).AsTask().WaitAsync(Guard);
            Assert.NotEqual(0, n);
            got += n;
        }
        return Encoding.ASCII.GetString(buffer);
    }

    private static async Task<Pair> PairAsync()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepting = listener.AcceptSocketAsync();
        var stream = await EpollStream.ConnectAsync("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port, CancellationToken.None);
        var peer = await accepting.WaitAsync(Guard);
        listener.Stop();
        return new Pair(stream, peer);
    }

    private sealed record Pair(EpollStream Stream, Socket Peer) : IDisposable
    {
        public void Dispose()
        {
            Stream.Dispose();
            Peer.Dispose();
        }
    }
}
