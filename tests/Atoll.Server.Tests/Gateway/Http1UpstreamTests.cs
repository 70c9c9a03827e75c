using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Atoll.Server.Gateway;
using Microsoft.Extensions.Time.Testing;

namespace Atoll.Server.Tests.Gateway;

/// <summary>
/// The gateway's HTTP/1.1 client against a scripted server that writes exact bytes: framing (length, chunked in
/// odd pieces, read-to-close), keep-alive and reuse, stale pooled connections, malformed answers, timeouts, TLS.
/// </summary>
public class Http1UpstreamTests
{
    /// <summary>Plain connections on the gateway's epoll loops (the default); the derived class runs every test on the runtime's sockets.</summary>
    protected virtual bool Epoll => true;

    private Http1Upstream NewClient(
        bool inlineIo, TimeSpan? idleTimeout = null, TimeProvider? time = null, RemoteCertificateValidationCallback? validateCertificate = null,
        int warmConnections = 0, TimeSpan? warmFor = null) =>
        new(inlineIo, idleTimeout, time, validateCertificate, warmConnections, warmFor, epoll: Epoll);

    private static readonly byte[] Body = "{\"model\":\"m\"}"u8.ToArray();

    [Fact]
    public async Task A_length_framed_answer_is_read_whole_and_its_connection_reused()
    {
        await using var server = ScriptedServer.AnsweringEach("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id: r1\r\nx-atoll-instance: sim-a\r\n"
            + "Openai-Processing-Ms: 12\r\nContent-Length: 11\r\n\r\n{\"ok\":true}");
        using var client = NewClient(inlineIo: false);
        var target = client.Target(server.Url("/v1/chat/completions"));

        for (var i = 0; i < 3; i++)
        {
            var answer = await target.ExchangeAsync(Body, eventStream: false, CancellationToken.None);
            Assert.Equal(200, answer.Status);
            Assert.Equal("application/json", answer.ContentType);
            Assert.Equal(11, answer.ContentLength);
            Assert.Equal("r1|12|sim-a", string.Join("|", answer.Kept));
            Assert.Equal("{\"ok\":true}", await ReadAllAsync(answer));
            answer.Release();
        }
        Assert.Equal(1, server.Accepted);
        Assert.Equal(1, client.OpenConnections);
        Assert.Equal(1, target.Pool.Idle);
    }

    [Fact]
    public async Task The_request_is_a_post_with_host_type_length_and_accept_for_streams()
    {
        await using var server = ScriptedServer.AnsweringEach("HTTP/1.1 204 No Content\r\n\r\n");
        using var client = NewClient(inlineIo: true);
        var target = client.Target(server.Url("/v1/completions?x=1"));
        (await target.ExchangeAsync(Body, eventStream: false, CancellationToken.None)).Release();
        (await target.ExchangeAsync(Body, eventStream: true, CancellationToken.None)).Release();

        var port = server.Url("/").Port;
        Assert.Equal(
            $"POST /v1/completions?x=1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {Body.Length}\r\n\r\n{{\"model\":\"m\"}}",
            server.Requests[0]);
        Assert.Equal(
            $"POST /v1/completions?x=1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {Body.Length}\r\n"
            + "Accept: text/event-stream\r\n\r\n{\"model\":\"m\"}",
            server.Requests[1]);
    }

    [Fact]
    public async Task A_large_body_goes_out_whole()
    {
        var large = Encoding.ASCII.GetBytes("{\"p\":\"" + new string('x', 100_000) + "\"}");
        await using var server = new ScriptedServer(async (conn, _) =>
        {
            await conn.ReadRequestAsync();
            await conn.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        });
        using var client = NewClient(inlineIo: false);
        var answer = await client.Target(server.Url("/v1/embeddings")).ExchangeAsync(large, false, CancellationToken.None);
        Assert.Equal("ok", await ReadAllAsync(answer));
        answer.Release();
        Assert.EndsWith(Encoding.ASCII.GetString(large), server.Requests[0]);
    }

    [Fact]
    public async Task A_chunked_answer_in_odd_pieces_is_de_chunked_with_extensions_and_trailers()
    {
        const string answerText = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "6;name=value\r\ndata: \r\nA\r\n1234567890\r\n0\r\nX-Trailer: t\r\n\r\n";
        await using var server = new ScriptedServer(async (conn, _) =>
        {
            while (await conn.ReadRequestAsync() is not null)
            {
                // One byte per write, each flushed: every boundary falls somewhere awkward.
                foreach (var b in Encoding.ASCII.GetBytes(answerText))
                {
                    await conn.WriteAsync([b]);
                }
            }
        });
        using var client = NewClient(inlineIo: false);
        var target = client.Target(server.Url("/v1/chat/completions"));
        for (var i = 0; i < 2; i++)
        {
            var answer = await target.ExchangeAsync(Body, true, CancellationToken.None);
            Assert.True(answer.IsEventStream);
            Assert.Null(answer.ContentLength);
            Assert.Equal("data: 1234567890", await ReadAllAsync(answer));
            Assert.True(answer.BodyDone);
            answer.Release();
        }
        Assert.Equal(1, server.Accepted);
    }

    [Fact]
    public async Task An_answer_without_length_is_read_to_the_close_and_its_connection_not_reused()
    {
        await using var server = new ScriptedServer(async (conn, _) =>
        {
            await conn.ReadRequestAsync();
            await conn.WriteAsync("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\":");
            await conn.WriteAsync("1}");
            conn.Close();
        });
        using var client = NewClient(inlineIo: false);
        var target = client.Target(server.Url("/v1/chat/completions"));
        var answer = await target.ExchangeAsync(Body, false, CancellationToken.None);
        Assert.True(answer.CloseDelimited);
        Assert.Equal("{\"a\":1}", await ReadAllAsync(answer));
        answer.Release();
        Assert.Equal(0, client.OpenConnections);
        Assert.Equal(0, target.Pool.Idle);
    }

    [Fact]
    public async Task Connection_close_and_unread_bodies_close_the_connection()
    {
        await using var server = new ScriptedServer(async (conn, n) =>
        {
            while (await conn.ReadRequestAsync() is not null)
            {
                await conn.WriteAsync(n == 1
                    ? "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
                    : "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy");
            }
        });
        using var client = NewClient(inlineIo: false);
        var target = client.Target(server.Url("/v1/chat/completions"));
        var first = await target.ExchangeAsync(Body, false, CancellationToken.None);
        Assert.Equal("ok", await ReadAllAsync(first));
        first.Release();
        var second = await target.ExchangeAsync(Body, false, CancellationToken.None);
        Assert.Equal(503, second.Status);
        second.Release(); // body left unread
        Assert.Equal(2, server.Accepted);
        Assert.Equal(0, client.OpenConnections);
    }

    [Fact]
    public async Task Interim_answers_are_skipped()
    {
        await using var server = new ScriptedServer(async (conn, _) =>
        {
            await conn.ReadRequestAsync();
            await conn.WriteAsync("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx");
        });
        using var client = NewClient(inlineIo: false);
        var answer = await client.Target(server.Url("/v1/chat/completions")).ExchangeAsync(Body, false, CancellationToken.None);
        Assert.Equal(201, answer.Status);
        Assert.Equal("x", await ReadAllAsync(answer));
        answer.Release();
    }

    [Fact]
    public async Task A_pooled_connection_the_server_closed_while_idle_is_replaced_without_an_error()
    {
        await using var server = new ScriptedServer(async (conn, _) =>
        {
            await conn.ReadRequestAsync();
            await conn.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            conn.Close(); // as an idle timeout would, but without saying Connection: close
        });
        using var client = NewClient(inlineIo: true);
        var target = client.Target(server.Url("/v1/chat/completions"));
        for (var i = 0; i < 3; i++)
        {
            var answer = await target.ExchangeAsync(Body, false, CancellationToken.None);
            Assert.Equal("ok", await ReadAllAsync(answer));
            answer.Release();
            await server.WaitForClosedAsync(i + 1);
        }
        Assert.Equal(3, server.Accepted);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Bytes_a_server_sends_on_an_idle_connection_never_become_the_next_answer(bool inlineIo)
    {
        await using var server = StrayAfterFirstAnswer(out var strayWritten);
        using var client = NewClient(inlineIo, idleTimeout: StrayTestIdleTimeout);
        await AssertStrayBytesNotReadAsync(client.Target(server.Url("/v1/chat/completions")), strayWritten);

        Assert.Equal(2, server.Accepted); // the connection that carried stray bytes was closed, not reused
        Assert.Equal(1, client.OpenConnections);
        Assert.Equal(3, server.Requests.Count);
        Assert.Equal(1, client.IdleDrops); // and counted
    }

    /// <summary>
    /// Far above the test's pauses, so that only the stray bytes, never age, make the pool drop a connection (with the
    /// default 4 s, a stall of the test host between two exchanges would have dropped one and changed the counts).
    /// </summary>
    private static readonly TimeSpan StrayTestIdleTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A server whose first connection answers, then writes a whole second "answer" nobody asked for (as a wrong
    /// length's tail or a 408 on an idle connection would arrive; over TLS, a record of its own), and answers honestly
    /// after that, as every later connection does.
    /// </summary>
    private static ScriptedServer StrayAfterFirstAnswer(out Task strayWritten, X509Certificate2? certificate = null)
    {
        var written = new TaskCompletionSource();
        strayWritten = written.Task;
        return new ScriptedServer(async (conn, number) =>
        {
            await conn.ReadRequestAsync();
            await conn.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            if (number == 1)
            {
                await Task.Delay(50);
                await conn.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray");
                written.SetResult();
            }
            while (await conn.ReadRequestAsync() is not null)
            {
                await conn.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
        }, certificate);
    }

    /// <summary>One exchange, the stray bytes, then two exchanges that must each read "ok".</summary>
    private static async Task AssertStrayBytesNotReadAsync(Http1Target target, Task strayWritten)
    {
        await ExchangeAndReadAsync(target);
        await strayWritten.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(50); // loopback delivers it long before this
        await ExchangeAndReadAsync(target);
        await ExchangeAndReadAsync(target);
    }

    [Fact]
    public async Task A_server_that_drops_requests_gets_one_at_most_twice_however_many_idle_connections_the_pool_holds()
    {
        const int idle = 4;
        // The first four connections answer one request each, then (like every later connection) read and drop.
        await using var server = new ScriptedServer(async (conn, number) =>
        {
            if (number <= idle)
            {
                await conn.ReadRequestAsync();
                await conn.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
            if (await conn.ReadRequestAsync() is not null)
            {
                conn.Close();
            }
        });
        using var client = NewClient(inlineIo: false);
        var target = client.Target(server.Url("/v1/chat/completions"));
        var primed = await Task.WhenAll(Enumerable.Range(0, idle).Select(_ => target.ExchangeAsync(Body, false, CancellationToken.None).AsTask()));
        foreach (var answer in primed)
        {
            Assert.Equal("ok", await ReadAllAsync(answer));
            answer.Release();
        }
        Assert.Equal(idle, client.OpenConnections);

        var e = await Assert.ThrowsAsync<UpstreamException>(() => target.ExchangeAsync(Body, false, CancellationToken.None).AsTask());

        Assert.Contains("closed before an answer", e.Message);
        // The four that primed the pool, then the failing one twice: on a pooled connection, then on a new one.
        Assert.Equal(idle + 2, server.Requests.Count);
        Assert.Equal(idle + 1, server.Accepted);
    }

    [Fact]
    public async Task A_pooled_connection_that_fails_long_after_its_request_is_not_sent_again()
    {
        // The second request on the connection is read, worked on past the stale window, then the connection drops
        // (a crash, a load balancer's idle cut): the server had the request, so it is an error for the caller's
        // retry rules (attempts, budget, another endpoint), not a silent second send to the same server.
        await using var server = new ScriptedServer(async (conn, _) =>
        {
            await conn.ReadRequestAsync();
            await conn.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            await conn.ReadRequestAsync();
            await Task.Delay(Http1Target.StaleWindow + TimeSpan.FromMilliseconds(300));
            conn.Close();
        });
        using var client = NewClient(inlineIo: false);
        var target = client.Target(server.Url("/v1/chat/completions"));
        var first = await target.ExchangeAsync(Body, false, CancellationToken.None);
        Assert.Equal("ok", await ReadAllAsync(first));
        first.Release();

        var e = await Assert.ThrowsAsync<UpstreamException>(() => target.ExchangeAsync(Body, false, CancellationToken.None).AsTask());

        Assert.Contains("closed before an answer", e.Message);
        Assert.Equal(2, server.Requests.Count);
        Assert.Equal(1, server.Accepted);
    }

    [Fact]
    public async Task A_new_connection_closed_before_an_answer_fails_once_without_retrying()
    {
        await using var server = new ScriptedServer(async (conn, _) =>
        {
            await conn.ReadRequestAsync();
            conn.Close();
        });
        using var client = NewClient(inlineIo: false);
        var e = await Assert.ThrowsAsync<UpstreamException>(() =>
            client.Target(server.Url("/v1/chat/completions")).ExchangeAsync(Body, false, CancellationToken.None).AsTask());
        Assert.False(e.Connecting);
        Assert.Contains("closed before an answer", e.Message);
        Assert.Equal(1, server.Accepted);
        Assert.Equal(0, client.OpenConnections);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "5 bytes of the answer missing")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc", "in the middle of a chunk")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size \"zz\"")]
    public async Task A_broken_body_is_an_error_not_a_short_answer(string answerText, string expected)
    {
        await using var server = new ScriptedServer(async (conn, _) =>
        {
            await conn.ReadRequestAsync();
            await conn.WriteAsync(answerText);
            conn.Close();
        });
        using var client = NewClient(inlineIo: false);
        var answer = await client.Target(server.Url("/v1/chat/completions")).ExchangeAsync(Body, false, CancellationToken.None);
        var e = await Assert.ThrowsAsync<UpstreamException>(() => ReadAllAsync(answer));
        Assert.Contains(expected, e.Message);
        answer.Release();
        Assert.Equal(0, client.OpenConnections);
    }

    [Theory]
    [InlineData("SSH-2.0-OpenSSH_9.2\r\n\r\n", "not an HTTP/1 answer: \"SSH-2.0-OpenSSH_9.2\"")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", "malformed Content-Length: \"1x\"")]
    [InlineData("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed answer header")]
    [InlineData("HTTP/1.1 200 OK\r\nx-atoll-instance: a\u0001b\r\nContent-Length: 0\r\n\r\n", "malformed answer header x-atoll-instance: a control character")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Type: text/plain; x=\u00e9\r\nContent-Length: 0\r\n\r\n", "malformed answer header Content-Type")]
    // Framing a client could be split or desynchronized by (RFC 9112 6.3): errors before the first byte, so retried.
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", "both Transfer-Encoding and Content-Length")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 12\r\n\r\nok", "two different Content-Length headers (2 and 12)")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", "unsupported Transfer-Encoding: \"xchunked\"")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", "unsupported Transfer-Encoding: \"gzip, chunked\"")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "unsupported Transfer-Encoding")]
    public async Task A_malformed_head_is_an_error_naming_what_was_wrong(string answerText, string expected)
    {
        await using var server = new ScriptedServer(async (conn, _) =>
        {
            await conn.ReadRequestAsync();
            await conn.WriteAsync(answerText);
        });
        using var client = NewClient(inlineIo: false);
        var e = await Assert.ThrowsAsync<UpstreamException>(() =>
            client.Target(server.Url("/v1/chat/completions")).ExchangeAsync(Body, false, CancellationToken.None).AsTask());
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public async Task The_same_Content_Length_twice_is_one_length()
    {
        await using var server = ScriptedServer.AnsweringEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nok");
        using var client = NewClient(inlineIo: false);
        var answer = await client.Target(server.Url("/v1/chat/completions")).ExchangeAsync(Body, false, CancellationToken.None);
        Assert.Equal("ok", await ReadAllAsync(answer));
        Assert.False(answer.CloseDelimited);
        answer.Release();
    }

    [Fact]
    public async Task A_refused_connection_is_a_connect_error()
    {
        var port = FreePort();
        using var client = NewClient(inlineIo: false);
        var e = await Assert.ThrowsAsync<UpstreamException>(() =>
            client.Target(new Uri($"http://127.0.0.1:{port}/v1/chat/completions")).ExchangeAsync(Body, false, CancellationToken.None).AsTask());
        Assert.True(e.Connecting);
        // What failed, not where: the message may reach API clients, the address stays inside the fleet.
        Assert.Equal("connection refused", e.Message);
        Assert.Equal(SocketError.ConnectionRefused, Assert.IsType<SocketException>(e.InnerException).SocketErrorCode);
    }

    [Fact]
    public async Task Cancelling_a_waiting_exchange_closes_its_connection()
    {
        await using var server = new ScriptedServer(async (conn, _) =>
        {
            await conn.ReadRequestAsync();
            await conn.ReadRequestAsync(); // no answer; returns when the client closes
        });
        using var client = NewClient(inlineIo: true);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            client.Target(server.Url("/v1/chat/completions")).ExchangeAsync(Body, false, cts.Token).AsTask());
        await server.WaitForClosedAsync(1);
        Assert.Equal(0, client.OpenConnections);
    }

    /// <summary>
    /// A reused connection's exchange awaits the read its connection started when it went idle, which has no token of
    /// its own: cancelling must still end the exchange as a cancellation (not a hang, not an I/O error) and close it.
    /// </summary>
    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public async Task Cancelling_an_exchange_on_a_reused_connection_closes_it(bool inlineIo, bool tls)
    {
        using var certificate = tls ? SelfSignedLocalhost() : null;
        await using var server = new ScriptedServer(async (conn, _) =>
        {
            await conn.ReadRequestAsync();
            await conn.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            await conn.ReadRequestAsync();
            await conn.ReadRequestAsync(); // no answer to the second; returns when the client closes
        }, certificate);
        using var client = NewClient(inlineIo, idleTimeout: StrayTestIdleTimeout,
            validateCertificate: (_, cert, _, _) => cert?.GetCertHashString() == certificate?.GetCertHashString());
        var url = server.Url("/v1/chat/completions");
        var target = client.Target(tls ? new Uri($"https://localhost:{url.Port}{url.AbsolutePath}") : url);
        await ExchangeAndReadAsync(target);
        Assert.Equal(1, client.OpenConnections);

        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var exchange = target.ExchangeAsync(Body, false, cts.Token).AsTask();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => exchange.WaitAsync(TimeSpan.FromSeconds(10)));
        await server.WaitForClosedAsync(1);
        Assert.Equal(1, server.Accepted); // the second request went on the reused connection
        Assert.Equal(2, server.Requests.Count);
        Assert.Equal(0, client.OpenConnections);
    }

    [Fact]
    public async Task Idle_connections_are_closed_after_the_idle_timeout()
    {
        await using var server = ScriptedServer.AnsweringEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        var time = new FakeTimeProvider();
        using var client = NewClient(inlineIo: false, idleTimeout: TimeSpan.FromSeconds(4), time: time);
        var target = client.Target(server.Url("/v1/chat/completions"));
        await ExchangeAndReadAsync(target);
        time.Advance(TimeSpan.FromSeconds(3));
        await ExchangeAndReadAsync(target);
        Assert.Equal(1, server.Accepted);

        time.Advance(TimeSpan.FromSeconds(5)); // the sweep at 8 s closes it (idle since 3 s)
        Assert.Equal(0, client.OpenConnections);
        await server.WaitForClosedAsync(1);
        await ExchangeAndReadAsync(target);
        Assert.Equal(2, server.Accepted);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(0, 1)]
    public async Task A_request_after_a_quiet_spell_finds_a_warm_connection(int warm, int openedByTheRequest)
    {
        await using var server = ScriptedServer.AnsweringEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        var time = new FakeTimeProvider();
        using var client = NewClient(inlineIo: false, idleTimeout: TimeSpan.FromSeconds(4), time: time, warmConnections: warm);
        var target = client.Target(server.Url("/v1/chat/completions"));
        await ExchangeAndReadAsync(target);

        // Sweeps every second; at 3 s the idle connection would expire before the next one, so a fresh one opens
        // (with warming on) and the old one closes at 4 s.
        for (var second = 1; second <= 4; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await WaitForAsync(() => target.Pool.Warming == 0 && server.Accepted == 1 + (second >= 3 ? warm : 0));
        }
        Assert.Equal(warm, client.OpenConnections);
        var before = server.Accepted;
        await ExchangeAndReadAsync(target);
        Assert.Equal(openedByTheRequest, server.Accepted - before);
    }

    [Fact]
    public async Task A_host_unused_for_the_warm_period_is_let_go()
    {
        await using var server = ScriptedServer.AnsweringEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        var time = new FakeTimeProvider();
        using var client = NewClient(
            inlineIo: false, idleTimeout: TimeSpan.FromSeconds(4), time: time, warmConnections: 2, warmFor: TimeSpan.FromSeconds(10));
        var target = client.Target(server.Url("/v1/chat/completions"));
        await ExchangeAndReadAsync(target);
        for (var second = 1; second <= 16; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await WaitForAsync(() => target.Pool.Warming == 0);
            if (second <= 9)
            {
                Assert.True(target.Pool.Idle >= 2, $"at {second}s only {target.Pool.Idle} idle connections");
            }
        }
        Assert.Equal(0, client.OpenConnections);
        var accepted = server.Accepted;
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(0, target.Pool.Warming); // a warm connect is counted as it starts, inside Advance
        Assert.Equal(accepted, server.Accepted);
        Assert.Equal(0, client.OpenConnections);
    }

    [Fact]
    public async Task Hosts_gone_for_the_warm_period_leave_no_pool_and_one_that_comes_back_is_served_again()
    {
        await using var server = ScriptedServer.AnsweringEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        var time = new FakeTimeProvider();
        using var client = NewClient(inlineIo: false, idleTimeout: TimeSpan.FromSeconds(4), time: time, warmFor: TimeSpan.FromSeconds(10));
        var target = client.Target(server.Url("/v1/chat/completions"));
        var gone = client.Target(new Uri($"http://127.0.0.1:{FreePort()}/v1/chat/completions")); // a node that went away
        await ExchangeAndReadAsync(target);
        await Assert.ThrowsAsync<UpstreamException>(() => gone.ExchangeAsync(Body, false, CancellationToken.None).AsTask());
        Assert.Equal(2, client.Hosts);

        time.Advance(TimeSpan.FromSeconds(9)); // idle connection closed at 4 s; both used less than 10 s ago
        Assert.Equal(0, client.OpenConnections);
        Assert.Equal(2, client.Hosts);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, client.Hosts);
        var retired = target.Pool;
        Assert.True(retired.Retired);
        Assert.True(gone.Pool.Retired);

        await ExchangeAndReadAsync(target);
        Assert.NotSame(retired, target.Pool);
        Assert.False(target.Pool.Retired);
        Assert.Equal(1, client.Hosts);
        Assert.Equal(1, client.OpenConnections);
        Assert.Equal(1, target.Pool.Idle);
        Assert.Equal(2, server.Accepted);
    }

    [Fact]
    public async Task A_host_with_an_exchange_in_flight_keeps_its_pool_however_long_it_takes()
    {
        var rest = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new ScriptedServer(async (conn, _) =>
        {
            while (await conn.ReadRequestAsync() is not null)
            {
                await conn.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no");
                await rest.Task; // the rest of the answer comes when the test says
                await conn.WriteAsync("k");
            }
        });
        var time = new FakeTimeProvider();
        using var client = NewClient(inlineIo: false, idleTimeout: TimeSpan.FromSeconds(4), time: time, warmFor: TimeSpan.FromSeconds(10));
        var target = client.Target(server.Url("/v1/chat/completions"));
        var answer = await target.ExchangeAsync(Body, false, CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(1, client.Hosts);
        Assert.False(target.Pool.Retired);
        rest.SetResult();
        Assert.Equal("ok", await ReadAllAsync(answer));
        answer.Release();
        Assert.Equal(1, target.Pool.Idle);
    }

    [Fact]
    public async Task A_warm_connection_the_server_closed_is_replaced_without_an_error()
    {
        await using var server = new ScriptedServer(async (conn, number) =>
        {
            if (number == 2)
            {
                conn.Close(); // the warm one: closed before it carries anything
                return;
            }
            while (await conn.ReadRequestAsync() is not null)
            {
                await conn.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
        });
        var time = new FakeTimeProvider();
        using var client = NewClient(inlineIo: true, idleTimeout: TimeSpan.FromSeconds(4), time: time, warmConnections: 1);
        var target = client.Target(server.Url("/v1/chat/completions"));
        await ExchangeAndReadAsync(target);
        for (var second = 1; second <= 4; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await WaitForAsync(() => target.Pool.Warming == 0);
        }
        await server.WaitForClosedAsync(2); // the warm one, closed by the server, and the first, expired at 4 s
        await ExchangeAndReadAsync(target);
        Assert.Equal(3, server.Accepted);
    }

    [Fact]
    public async Task A_host_that_refuses_is_not_warmed_again_for_a_while_and_nothing_is_left_open_after_dispose()
    {
        await using var server = ScriptedServer.AnsweringEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        var time = new FakeTimeProvider();
        var client = NewClient(inlineIo: false, idleTimeout: TimeSpan.FromSeconds(4), time: time, warmConnections: 1);
        var target = client.Target(server.Url("/v1/chat/completions"));
        await ExchangeAndReadAsync(target);
        var refused = client.Target(new Uri($"http://127.0.0.1:{FreePort()}/v1/chat/completions"));
        await Assert.ThrowsAsync<UpstreamException>(() => refused.ExchangeAsync(Body, false, CancellationToken.None).AsTask());

        time.Advance(TimeSpan.FromSeconds(1)); // the first sweep tries to warm the refusing host once
        Assert.Equal(1, refused.Pool.WarmAttempts);
        await WaitForAsync(() => refused.Pool.Warming == 0);
        for (var second = 2; second <= 30; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await WaitForAsync(() => target.Pool.Warming == 0);
        }
        Assert.Equal(1, refused.Pool.WarmAttempts);
        time.Advance(TimeSpan.FromSeconds(1)); // 30 s after the failure: tried again
        Assert.Equal(2, refused.Pool.WarmAttempts);
        await WaitForAsync(() => refused.Pool.Warming == 0);

        Assert.True(client.OpenConnections >= 1, "the reachable host keeps a warm connection");
        client.Dispose();
        Assert.Equal(0, client.OpenConnections);
        await server.WaitForClosedAsync(server.Accepted);
    }

    [Fact]
    public async Task Https_model_servers_work_over_tls()
    {
        using var certificate = SelfSignedLocalhost();
        await using var server = ScriptedServer.AnsweringEach("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret", certificate);
        string? seen = null;
        using var client = NewClient(inlineIo: true, validateCertificate: (_, cert, _, _) =>
        {
            seen = cert?.Subject;
            return cert?.GetCertHashString() == certificate.GetCertHashString(); // pinned, as a user would for a self-signed server
        });
        var target = client.Target(new Uri($"https://localhost:{server.Url("/").Port}/v1/chat/completions"));
        for (var i = 0; i < 2; i++)
        {
            var answer = await target.ExchangeAsync(Body, false, CancellationToken.None);
            Assert.Equal("secret", await ReadAllAsync(answer));
            answer.Release();
        }
        Assert.Equal("CN=localhost", seen);
        Assert.Equal(1, server.Accepted);
        Assert.Contains("Host: localhost:", server.Requests[0]);
    }

    [Fact]
    public async Task Over_tls_too_bytes_sent_on_an_idle_connection_never_become_the_next_answer()
    {
        using var certificate = SelfSignedLocalhost();
        await using var server = StrayAfterFirstAnswer(out var strayWritten, certificate);
        using var client = NewClient(inlineIo: true, idleTimeout: StrayTestIdleTimeout,
            validateCertificate: (_, cert, _, _) => cert?.GetCertHashString() == certificate.GetCertHashString());
        await AssertStrayBytesNotReadAsync(client.Target(new Uri($"https://localhost:{server.Url("/").Port}/v1/chat/completions")), strayWritten);

        Assert.Equal(2, server.Accepted); // the first connection was dropped; the second, past its session tickets, kept
        Assert.Equal(1, client.IdleDrops);
    }

    /// <summary>
    /// Stray bytes in a TLS record of their own, sent in the same TCP segment as the answer's record. When the answer
    /// is short the client's TLS layer hands both out in one read, and the bytes after the answer are in the
    /// connection's buffer when it is released. When the answer fills the connection's read buffer (16 KB) exactly,
    /// the stray record stays in the TLS layer, where no check of the socket can see it; the idle read gets it at once.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Over_tls_bytes_that_came_in_with_an_answer_never_become_the_next_answer(bool answerFillsTheReadBuffer)
    {
        var first = answerFillsTheReadBuffer ? AnswerOfExactly(16 * 1024) : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        using var certificate = SelfSignedLocalhost();
        await using var server = new ScriptedServer(async (conn, number) =>
        {
            await conn.ReadRequestAsync();
            if (number == 1)
            {
                conn.HoldWrites();
                await conn.WriteAsync(first);
                await conn.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray");
                await conn.SendHeldAsync();
            }
            else
            {
                await conn.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
            while (await conn.ReadRequestAsync() is not null)
            {
                await conn.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
        }, certificate);
        using var client = NewClient(inlineIo: true, idleTimeout: StrayTestIdleTimeout,
            validateCertificate: (_, cert, _, _) => cert?.GetCertHashString() == certificate.GetCertHashString());
        var target = client.Target(new Uri($"https://localhost:{server.Url("/").Port}/v1/chat/completions"));
        var answer = await target.ExchangeAsync(Body, false, CancellationToken.None);
        Assert.Equal(first[(first.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..], await ReadAllAsync(answer));
        answer.Release();
        await ExchangeAndReadAsync(target);
        await ExchangeAndReadAsync(target);
        Assert.Equal(2, server.Accepted); // the first connection was dropped with the stray record, the second kept
        // A short answer's stray bytes are in the buffer at release, which closes the connection; a full one's stay in
        // the TLS layer until the idle read takes them, which is counted as a drop.
        Assert.Equal(answerFillsTheReadBuffer ? 1 : 0, client.IdleDrops);

        // An answer of exactly total bytes, head included (the length's digits are as many as total's).
        static string AnswerOfExactly(int total)
        {
            var head = $"HTTP/1.1 200 OK\r\nContent-Length: {total}\r\n\r\n";
            var text = head.Replace($"{total}", $"{total - head.Length}", StringComparison.Ordinal) + new string('a', total - head.Length);
            Assert.Equal(total, text.Length);
            return text;
        }
    }

    /// <summary>
    /// A warm TLS connection, opened before any request and never used, carries the next request: the TLS 1.3 session
    /// tickets the server sends after the handshake are taken in by its idle read without completing it.
    /// </summary>
    [Fact]
    public async Task Over_tls_a_warm_connection_carries_the_next_request()
    {
        using var certificate = SelfSignedLocalhost();
        await using var server = ScriptedServer.AnsweringEach("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", certificate);
        var time = new FakeTimeProvider();
        using var client = NewClient(inlineIo: true, idleTimeout: TimeSpan.FromSeconds(4), time: time, warmConnections: 1,
            validateCertificate: (_, cert, _, _) => cert?.GetCertHashString() == certificate.GetCertHashString());
        var target = client.Target(new Uri($"https://localhost:{server.Url("/").Port}/v1/chat/completions"));
        await ExchangeAndReadAsync(target);
        for (var second = 1; second <= 4; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await WaitForAsync(() => target.Pool.Warming == 0 && server.Accepted == (second >= 3 ? 2 : 1));
        }
        await Task.Delay(200); // the server's session tickets reach the warm connection long before this
        Assert.Equal(1, client.OpenConnections);
        await ExchangeAndReadAsync(target);
        Assert.Equal(2, server.Accepted); // the warm connection carried it
        Assert.Equal(0, client.IdleDrops);
    }

    [Fact]
    public async Task An_untrusted_certificate_is_a_connect_error()
    {
        using var certificate = SelfSignedLocalhost();
        await using var server = new ScriptedServer((conn, _) => conn.ReadRequestAsync(), certificate);
        using var client = NewClient(inlineIo: false);
        var e = await Assert.ThrowsAsync<UpstreamException>(() =>
            client.Target(new Uri($"https://localhost:{server.Url("/").Port}/v1/chat/completions")).ExchangeAsync(Body, false, CancellationToken.None).AsTask());
        Assert.True(e.Connecting);
        Assert.Contains("TLS failed", e.Message);
    }

    /// <summary>A certificate for CN=localhost with its private key, as a server needs it.</summary>
    private static X509Certificate2 SelfSignedLocalhost()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
    }

    private static async Task ExchangeAndReadAsync(Http1Target target)
    {
        var answer = await target.ExchangeAsync(Body, false, CancellationToken.None);
        Assert.Equal("ok", await ReadAllAsync(answer));
        answer.Release();
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 10 s");
            await Task.Delay(5);
        }
    }

    private static async Task<string> ReadAllAsync(Http1Connection answer)
    {
        var text = new StringBuilder();
        while (true)
        {
            var piece = await answer.ReadAsync(CancellationToken.None);
            if (piece.IsEmpty)
            {
                return text.ToString();
            }
            text.Append(Encoding.ASCII.GetString(piece.Span));
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A TCP server running a script per accepted connection (numbered from 1), recording the requests it read.</summary>
    private sealed class ScriptedServer : IAsyncDisposable
    {
        private readonly TcpListener listener = new(IPAddress.Loopback, 0);
        private readonly Task accepting;
        private readonly X509Certificate2? certificate;
        private int accepted;
        private int closed;

        public ScriptedServer(Func<ScriptedConnection, int, Task> script, X509Certificate2? certificate = null)
        {
            this.certificate = certificate;
            listener.Start();
            accepting = AcceptAsync(script);
        }

        public int Accepted => Volatile.Read(ref accepted);

        /// <summary>A server that answers every request on every connection with <paramref name="answer"/>.</summary>
        public static ScriptedServer AnsweringEach(string answer, X509Certificate2? certificate = null) =>
            new(async (conn, _) =>
            {
                while (await conn.ReadRequestAsync() is not null)
                {
                    await conn.WriteAsync(answer);
                }
            }, certificate);

        public List<string> Requests { get; } = [];

        public Uri Url(string path) => new($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}{path}");

        public async Task WaitForClosedAsync(int count)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (Volatile.Read(ref closed) < count)
            {
                Assert.True(DateTime.UtcNow < deadline, $"only {closed} of {count} connections closed");
                await Task.Delay(10);
            }
        }

        public async ValueTask DisposeAsync()
        {
            // Connection scripts end when the client closes (tests dispose the client first).
            listener.Stop();
            await accepting;
        }

        private async Task AcceptAsync(Func<ScriptedConnection, int, Task> script)
        {
            while (true)
            {
                Socket socket;
                try
                {
                    socket = await listener.AcceptSocketAsync();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }
                var number = Interlocked.Increment(ref accepted);
                _ = Task.Run(async () =>
                    {
                        var wire = new HoldingStream(new NetworkStream(socket, ownsSocket: true));
                        Stream stream = wire;
                        try
                        {
                            if (certificate is not null)
                            {
                                var secure = new SslStream(stream);
                                await secure.AuthenticateAsServerAsync(certificate);
                                stream = secure;
                            }
                            await script(new ScriptedConnection(stream, wire, this), number);
                        }
                        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
                        {
                        }
                        finally
                        {
                            await stream.DisposeAsync();
                            Interlocked.Increment(ref closed);
                        }
                    });
            }
        }

        public void Record(string request)
        {
            lock (Requests)
            {
                Requests.Add(request);
            }
        }
    }

    private sealed class ScriptedConnection(Stream stream, HoldingStream wire, ScriptedServer server)
    {
        /// <summary>
        /// Until <see cref="SendHeldAsync"/>, what is written is kept back, then goes out in one TCP write: over TLS,
        /// several records arrive together and the client's TLS layer reads them in at once.
        /// </summary>
        public void HoldWrites() => wire.Holding = true;

        public Task SendHeldAsync() => wire.SendHeldAsync();

        private string pending = "";

        /// <summary>One request (head and Content-Length body) as text, null when the client closed.</summary>
        public async Task<string?> ReadRequestAsync()
        {
            var buffer = new byte[64 * 1024];
            while (true)
            {
                var headEnd = pending.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (headEnd >= 0)
                {
                    var lengthLine = pending[..headEnd].Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
                    var length = lengthLine is null ? 0 : int.Parse(lengthLine["Content-Length:".Length..].Trim(), CultureInfo.InvariantCulture);
                    if (pending.Length >= headEnd + 4 + length)
                    {
                        var request = pending[..(headEnd + 4 + length)];
                        pending = pending[request.Length..];
                        server.Record(request);
                        return request;
                    }
                }
                var read = await stream.ReadAsync(buffer);
                if (read == 0)
                {
                    return null;
                }
                pending += Encoding.Latin1.GetString(buffer, 0, read);
            }
        }

        public Task WriteAsync(string text) => WriteAsync(Encoding.Latin1.GetBytes(text));

        public async Task WriteAsync(byte[] bytes)
        {
            await stream.WriteAsync(bytes);
            await stream.FlushAsync();
        }

        public void Close() => stream.Dispose();
    }

    /// <summary>A pass-through stream whose writes can be held back and sent later in one write (<see cref="ScriptedConnection.HoldWrites"/>).</summary>
    private sealed class HoldingStream(Stream inner) : Stream
    {
        private readonly MemoryStream held = new();

        public bool Holding { get; set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public async Task SendHeldAsync()
        {
            Holding = false;
            await inner.WriteAsync(held.ToArray());
            held.SetLength(0);
        }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Holding)
            {
                held.Write(buffer.Span);
                return ValueTask.CompletedTask;
            }
            return inner.WriteAsync(buffer, cancellationToken);
        }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => Holding ? Task.CompletedTask : inner.FlushAsync(cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                held.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}

/// <summary>
/// The same tests with plain connections on the runtime's sockets (<c>--upstream-epoll false</c>, and every machine
/// but Linux x86-64).
/// </summary>
public sealed class Http1UpstreamOnRuntimeSocketsTests : Http1UpstreamTests
{
    protected override bool Epoll => false;
}
