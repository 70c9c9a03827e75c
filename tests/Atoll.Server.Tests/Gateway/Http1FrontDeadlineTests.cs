using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Atoll.Testing;
using Atoll.Testing.Processes;
using Microsoft.AspNetCore.Hosting;

namespace Atoll.Server.Tests.Gateway;

/// <summary>The HTTP/1.1 front on a real Kestrel listener, with a short request-headers timeout to test it in seconds.</summary>
public sealed class Http1FrontDeadlineTests
{
    private static readonly TimeSpan HeadersTimeout = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task A_head_trickled_in_pieces_gets_the_request_headers_timeout_once_from_its_first_byte_not_per_read()
    {
        await using var database = await TestDatabase.CreateAsync(StoreEngines.Sqlite);
        var port = FreePorts.Next();
        var options = new ServerOptions { DataDir = database.DataDir, Store = database.StoreUrl, Listen = $"http://127.0.0.1:{port}" };
        await using var app = await AtollServer.BuildAsync(options,
            b => b.WebHost.ConfigureKestrel(k => k.Limits.RequestHeadersTimeout = HeadersTimeout));
        await app.StartAsync();
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, port);

        // Pieces 1.8 s apart: no single silence reaches the timeout, the whole head does (after the second piece).
        string[] pieces = ["POST /v1/chat/completions HTTP/1.1\r\n", "Host: x\r\n", "X-A: 1\r\n", "Content-Length: 2\r\n\r\n{}"];
        var first = Stopwatch.StartNew();
        var closedAt = (TimeSpan?)null;
        foreach (var piece in pieces)
        {
            try
            {
                await socket.SendAsync(Encoding.ASCII.GetBytes(piece), SocketFlags.None);
            }
            catch (SocketException)
            {
                closedAt = first.Elapsed;
                break;
            }
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(1.8));
            try
            {
                var n = await socket.ReceiveAsync(new byte[4096], SocketFlags.None, wait.Token);
                if (n == 0)
                {
                    closedAt = first.Elapsed;
                    break;
                }
                Assert.Fail($"the server answered a head that took {first.Elapsed.TotalSeconds:0.0}s, over the {HeadersTimeout.TotalSeconds}s limit");
            }
            catch (OperationCanceledException)
            {
            }
            catch (SocketException)
            {
                closedAt = first.Elapsed;
                break;
            }
        }

        Assert.True(closedAt is not null, "the server kept a head that trickled in over 5 s");
        // The timeout, plus up to a second of Kestrel's heartbeat, which checks the deadlines, and scheduling slack.
        Assert.InRange(closedAt.Value, HeadersTimeout, HeadersTimeout + TimeSpan.FromSeconds(2.5));
    }
}
