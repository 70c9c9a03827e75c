using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Atoll.Server.Gateway;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atoll.Server.Tests.Gateway;

/// <summary>
/// The server's own Kestrel transport (<see cref="EpollTransportFactory"/>, <see cref="EpollConnection"/>) under a
/// real Kestrel, with real loopback clients: every request of the server and system tests goes through it too; these
/// check what they would not notice: which transport took the connection, buffers larger than the pipes both ways,
/// a client leaving, aborts, where reads run, binding, HTTP/2, many connections, and a stop with connections open.
/// </summary>
public sealed class EpollTransportTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(15);

    public EpollTransportTests()
    {
        Assert.True(!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64 || EpollLoop.Available,
            "the epoll loops should run on Linux x86-64");
    }

    [Fact]
    public async Task Kestrel_takes_its_connections_from_the_loops_and_keeps_them_alive()
    {
        await using var server = await TestServer.StartAsync(app => app.MapGet("/who", (HttpContext c) =>
            $"{c.Features.Get<EpollConnection>()?.GetType().Name ?? "sockets"} {c.Connection.Id} {c.Connection.RemoteIpAddress} {c.Connection.LocalPort}"));
        using var client = new HttpClient { BaseAddress = server.Url };
        var first = (await client.GetStringAsync("/who")).Split(' ');
        var second = (await client.GetStringAsync("/who")).Split(' ');
        Assert.Equal(nameof(EpollConnection), first[0]);
        Assert.Equal(first[1], second[1]); // the same connection, kept alive
        Assert.Equal("127.0.0.1", first[2]);
        Assert.Equal(server.Url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), first[3]);
    }

    [Fact]
    public async Task Without_the_loops_registered_Kestrel_stays_on_its_sockets()
    {
        await using var server = await TestServer.StartAsync(app => app.MapGet("/who", (HttpContext c) =>
            c.Features.Get<EpollConnection>() is null ? "sockets" : "epoll"), epoll: false);
        using var client = new HttpClient { BaseAddress = server.Url };
        Assert.Equal("sockets", await client.GetStringAsync("/who"));
    }

    [Fact]
    public async Task An_upload_and_a_download_larger_than_the_pipes_arrive_whole_to_slow_readers()
    {
        const int size = 6 * EpollConnection.MaxBuffered + 12345;
        var payload = RandomNumberGenerator.GetBytes(size);
        await using var server = await TestServer.StartAsync(app =>
        {
            app.MapPost("/hash", async (HttpContext c) =>
            {
                // A slow reader: the transport must pause reading, not buffer the whole body or lose any of it.
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = new byte[64 * 1024];
                int n;
                while ((n = await c.Request.Body.ReadAsync(buffer)) > 0)
                {
                    hash.AppendData(buffer, 0, n);
                    await Task.Delay(1);
                }
                return Convert.ToHexString(hash.GetHashAndReset());
            });
            app.MapGet("/bytes", () => Results.Bytes(payload));
        });
        using var client = new HttpClient { BaseAddress = server.Url };
        var uploaded = await (await client.PostAsync("/hash", new ByteArrayContent(payload))).Content.ReadAsStringAsync();
        Assert.Equal(Convert.ToHexString(SHA256.HashData(payload)), uploaded);

        using var response = await client.GetAsync("/bytes", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        await Task.Delay(300); // the answer fills the socket and the output pipe meanwhile
        using var received = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk)) > 0)
        {
            received.Write(chunk, 0, read);
        }
        Assert.Equal(Convert.ToHexString(SHA256.HashData(payload)), Convert.ToHexString(SHA256.HashData(received.ToArray())));
    }

    [Fact]
    public async Task A_client_that_leaves_aborts_its_request()
    {
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(app => app.MapGet("/wait", async (HttpContext c) =>
        {
            c.RequestAborted.Register(() => aborted.TrySetResult());
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, c.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        }));
        using (var socket = await ConnectAsync(server.Url))
        {
            await socket.SendAsync("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
            await started.Task.WaitAsync(Guard);
        }
        await aborted.Task.WaitAsync(Guard);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_close_that_comes_with_the_last_bytes_ends_the_input_after_them(bool inline)
    {
        // The client's bytes and its close usually arrive in one epoll report; the short read of the bytes must not
        // be taken for an empty socket, or the end would never be read (no further report comes for it).
        await using var server = await TestServer.StartAsync(_ => { }, listen: l => l.Run(async connection =>
        {
            InlineIo.TrySet(connection.Features, inline);
            var input = connection.Transport.Input;
            long total = 0;
            while (true)
            {
                var read = await input.ReadAsync();
                total += read.Buffer.Length;
                input.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }
            }
            await connection.Transport.Output.WriteAsync(Encoding.ASCII.GetBytes($"{total}\n"));
        }));
        for (var i = 0; i < 20; i++)
        {
            using var socket = await ConnectAsync(server.Url);
            await Task.Delay(20); // the connection is on its loop, reading, before the bytes come
            socket.Send(new byte[1000 + i]);
            socket.Shutdown(SocketShutdown.Send);
            Assert.Equal($"{1000 + i}", await ReadLineAsync(socket));
        }
    }

    [Fact]
    public async Task An_aborted_connection_is_closed_for_the_client()
    {
        await using var server = await TestServer.StartAsync(app => app.MapGet("/abort", (HttpContext c) => c.Abort()));
        using var socket = await ConnectAsync(server.Url);
        await socket.SendAsync("GET /abort HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        var buffer = new byte[1024];
        int n;
        try
        {
            n = await socket.ReceiveAsync(buffer).WaitAsync(Guard);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            n = 0;
        }
        Assert.Equal(0, n);
    }

    [Fact]
    public async Task Reads_run_on_the_pool_until_the_connection_is_switched_inline_then_on_its_loop()
    {
        // A connection middleware that reports where each read of a line continued, and switches the connection to
        // inline reads after the first.
        await using var server = await TestServer.StartAsync(_ => { }, listen: l => l.Run(async connection =>
        {
            var input = connection.Transport.Input;
            for (var line = 0; line < 3; line++)
            {
                var read = await input.ReadAsync();
                var where = Thread.CurrentThread.IsThreadPoolThread ? "pool" : Thread.CurrentThread.Name ?? "?";
                input.AdvanceTo(read.Buffer.End);
                await connection.Transport.Output.WriteAsync(Encoding.ASCII.GetBytes(where + "\n"));
                Assert.True(InlineIo.TrySet(connection.Features, inline: line == 0));
            }
        }));
        using var socket = await ConnectAsync(server.Url);
        var answers = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            // After the read pass that brought the last line has ended: a pass that is still running when bytes come
            // reads them on its own thread.
            await Task.Delay(100);
            await socket.SendAsync("x"u8.ToArray());
            answers.Add((await ReadLineAsync(socket)).Trim());
        }
        Assert.Equal("pool", answers[0]);
        Assert.StartsWith("Atoll epoll", answers[1]);
        Assert.Equal("pool", answers[2]); // switched back
    }

    [Fact]
    public async Task A_reader_woken_from_another_thread_continues_on_the_pool_not_there()
    {
        // Kestrel's heartbeat cancels reads from its own thread; Kestrel's requests must not run there (nor on a
        // loop the connection was switched off).
        await using var server = await TestServer.StartAsync(_ => { }, listen: l => l.Run(async connection =>
        {
            InlineIo.TrySet(connection.Features, inline: true);
            var input = connection.Transport.Input;
            var pending = input.ReadAsync();
            new Thread(() =>
            {
                Thread.Sleep(100); // after the await below (Start waits for the thread to run)
                input.CancelPendingRead();
            }) { Name = "canceller" }.Start();
            var read = await pending;
            var where = Thread.CurrentThread.IsThreadPoolThread ? "pool" : Thread.CurrentThread.Name ?? "?";
            await connection.Transport.Output.WriteAsync(Encoding.ASCII.GetBytes($"{read.IsCanceled} {where}\n"));
        }));
        using var socket = await ConnectAsync(server.Url);
        Assert.Equal("True pool", (await ReadLineAsync(socket)).Trim());
    }

    [Fact]
    public async Task A_read_pass_hands_on_at_most_64_KiB_at_a_time()
    {
        // A fast sender must not make one pass read without end: it would hold the loop and grow the pipe.
        const int size = 4 * 1024 * 1024;
        await using var server = await TestServer.StartAsync(_ => { }, listen: l => l.Run(async connection =>
        {
            InlineIo.TrySet(connection.Features, inline: true);
            var input = connection.Transport.Input;
            long total = 0, largest = 0;
            while (total < size)
            {
                var read = await input.ReadAsync();
                largest = Math.Max(largest, read.Buffer.Length);
                total += read.Buffer.Length;
                input.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }
            }
            await connection.Transport.Output.WriteAsync(Encoding.ASCII.GetBytes($"{total} {largest}\n"));
        }));
        using var socket = await ConnectAsync(server.Url);
        await Task.Delay(100);
        await socket.SendAsync(new byte[size]);
        var answer = (await ReadLineAsync(socket)).Split(' ');
        Assert.Equal(size.ToString(System.Globalization.CultureInfo.InvariantCulture), answer[0]);
        Assert.InRange(long.Parse(answer[1], System.Globalization.CultureInfo.InvariantCulture), 1, (64 + 4) * 1024);
    }

    [Fact]
    public async Task A_direct_send_waits_until_what_went_through_the_pipe_before_it_was_sent()
    {
        // 16 MB through the output pipe to a client with a small receive buffer that reads nothing yet: the socket
        // fills, and the send loop holds the rest. A direct send (the gateway front's small answers,
        // Http1FrontClient) must not pass those bytes: it is refused until the send loop sent them all.
        const int size = 16 * 1024 * 1024;
        var whileUnsent = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var afterwards = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var clientReads = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(_ => { }, listen: l => l.Run(async connection =>
        {
            try
            {
                var epoll = (EpollConnection)connection.Transport;
                var output = connection.Transport.Output;
                output.Write(Enumerable.Repeat((byte)'a', size).ToArray());
                epoll.Queued(output.UnflushedBytes);
                var flushing = output.FlushAsync(); // waits: the client takes nothing yet
                whileUnsent.TrySetResult(epoll.TrySendNow("b"u8));
                await clientReads.Task;
                await flushing;
                int sent;
                while ((sent = epoll.TrySendNow("b"u8)) == -1)
                {
                    await Task.Delay(1); // the send loop may still be sending the pipe's last bytes
                }
                afterwards.TrySetResult(sent);
            }
            catch (Exception e)
            {
                whileUnsent.TrySetException(e);
                afterwards.TrySetException(e);
            }
            await Task.Delay(Timeout.Infinite, connection.ConnectionClosed).ContinueWith(_ => { }, TaskScheduler.Default);
        }));
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 16 * 1024 };
        await socket.ConnectAsync(IPAddress.Loopback, server.Url.Port);
        Assert.Equal(-1, await whileUnsent.Task.WaitAsync(Guard));

        clientReads.SetResult();
        var buffer = new byte[64 * 1024];
        var received = 0L;
        while (received <= size)
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(Guard);
            Assert.True(n > 0, $"the connection ended after {received} bytes");
            var b = buffer.AsSpan(0, n).IndexOf((byte)'b');
            // Every byte of the pipe first, then the direct send's one byte, last.
            Assert.True(b < 0 ? received + n <= size : received + b == size && n == b + 1,
                $"the direct send's byte arrived at {received + b} of {size + 1}");
            received += n;
        }
        Assert.Equal(size + 1, received);
        Assert.Equal(1, await afterwards.Task.WaitAsync(Guard));
    }

    [Fact]
    public async Task A_second_listener_on_a_taken_port_fails_as_Kestrels_own_transport_does()
    {
        await using var server = await TestServer.StartAsync(_ => { });
        var factory = new EpollTransportFactory();
        await Assert.ThrowsAsync<AddressInUseException>(async () =>
            await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, server.Url.Port)));
        Assert.False(factory.CanBind(new UnixDomainSocketEndPoint("/tmp/x.sock")));
    }

    [Fact]
    public async Task The_any_address_takes_IPv4_clients_too()
    {
        Assert.True(Socket.OSSupportsIPv6, "these tests expect a machine with IPv6, as Kestrel's localhost binds [::1] too");
        await using var server = await TestServer.StartAsync(app => app.MapGet("/", () => "ok"), address: IPAddress.IPv6Any);
        using var client = new HttpClient();
        Assert.Equal("ok", await client.GetStringAsync($"http://127.0.0.1:{server.Url.Port}/"));
    }

    [Fact]
    public async Task Many_connections_and_HTTP2_streams_at_once_each_get_their_own_answer()
    {
        static void MapEcho(WebApplication app) => app.MapPost("/echo", async (HttpContext c) =>
        {
            using var reader = new StreamReader(c.Request.Body);
            return await reader.ReadToEndAsync();
        });
        await using var server = await TestServer.StartAsync(MapEcho);
        await using var h2server = await TestServer.StartAsync(MapEcho, protocols: HttpProtocols.Http2); // cleartext: HTTP/2 by prior knowledge
        var http1 = Enumerable.Range(0, 48).Select(async i =>
        {
            using var client = new HttpClient { BaseAddress = server.Url };
            for (var j = 0; j < 10; j++)
            {
                var text = $"http1 {i} {j} " + new string('x', i * 97);
                Assert.Equal(text, await (await client.PostAsync("/echo", new StringContent(text))).Content.ReadAsStringAsync());
            }
        });
        using var h2 = new HttpClient { BaseAddress = h2server.Url, DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        var http2 = Enumerable.Range(0, 48).Select(async i =>
        {
            var text = $"h2 {i} " + new string('y', i * 131);
            using var response = await h2.PostAsync("/echo", new StringContent(text));
            Assert.Equal(HttpVersion.Version20, response.Version);
            Assert.Equal(text, await response.Content.ReadAsStringAsync());
        });
        await Task.WhenAll(http1.Concat(http2)).WaitAsync(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task Stopping_the_server_closes_idle_connections_and_lets_a_busy_one_finish()
    {
        var server = await TestServer.StartAsync(app =>
        {
            app.MapGet("/", () => "ok");
            app.MapGet("/slow", async () =>
            {
                await Task.Delay(500);
                return "done";
            });
        });
        using var idle = new HttpClient { BaseAddress = server.Url };
        Assert.Equal("ok", await idle.GetStringAsync("/")); // a kept-alive idle connection
        using var busy = new HttpClient { BaseAddress = server.Url };
        var slow = busy.GetStringAsync("/slow");
        await Task.Delay(100);
        var stopping = System.Diagnostics.Stopwatch.StartNew();
        await server.DisposeAsync().AsTask().WaitAsync(Guard);
        Assert.Equal("done", await slow);
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(5), $"the stop took {stopping.Elapsed}");
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => idle.GetStringAsync("/"));
    }

    private static async Task<Socket> ConnectAsync(Uri url)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, url.Port);
        return socket;
    }

    private static async Task<string> ReadLineAsync(Socket socket)
    {
        var text = new StringBuilder();
        var one = new byte[1];
        while (await socket.ReceiveAsync(one).WaitAsync(Guard) == 1 && one[0] != '\n')
        {
            text.Append((char)one[0]);
        }
        return text.ToString();
    }

    /// <summary>A Kestrel on the epoll transport (or on its own), on a free loopback port.</summary>
    private sealed class TestServer(WebApplication app, Uri url) : IAsyncDisposable
    {
        public Uri Url { get; } = url;

        public static async Task<TestServer> StartAsync(Action<WebApplication> map, Action<ListenOptions>? listen = null,
            IPAddress? address = null, HttpProtocols protocols = HttpProtocols.Http1, bool epoll = true)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseKestrel(k => k.Listen(address ?? IPAddress.Loopback, 0, l =>
            {
                l.Protocols = protocols;
                listen?.Invoke(l);
            }));
            builder.WebHost.UseShutdownTimeout(TimeSpan.FromSeconds(10));
            if (epoll)
            {
                builder.Services.AddSingleton<IConnectionListenerFactory, EpollTransportFactory>();
            }
            builder.Logging.ClearProviders();
            var app = builder.Build();
            map(app);
            await app.StartAsync();
            var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            return new TestServer(app, new Uri(bound.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)));
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
