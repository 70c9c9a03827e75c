using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Atoll.Testing.Processes;

namespace Atoll.System.Tests.Gateway;

/// <summary>
/// The gateway's own HTTP/1.1 front (Gateway/Http1Front.cs) over a bare socket: what HttpClient never sends
/// (pipelining, a head in pieces) and what it hides (who answered, the connection closing). Kestrel answers with a
/// <c>Server: Kestrel</c> header and the front without one, which tells the two apart from outside.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class Http1FrontTests(SharedGatewayFixture shared)
{
    [Fact]
    public async Task Pipelined_requests_on_one_connection_are_answered_in_order_by_the_front()
    {
        using var connection = await RawConnection.OpenAsync(shared.Server.Port);
        await connection.SendAsync(Post(Body("first", 1)) + Post(Body("second", 2)) + Post(Body("third", 3)));
        for (var tokens = 1; tokens <= 3; tokens++)
        {
            var (status, head, body) = await connection.ReadAnswerAsync();
            Chat.AssertComplete(status, body, tokens);
            AssertAnsweredByFront(head);
            Assert.Contains("x-atoll-endpoint: ", head, StringComparison.Ordinal);
            Assert.Matches(@"\r\nDate: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT(\r\n|$)", head);
        }
    }

    [Fact]
    public async Task Large_requests_and_answers_pass_the_front_whole_between_small_ones()
    {
        // An input of several of the pipe's 4 KB segments, and an answer over the size the front writes together with
        // its head (2 KB), pipelined between small requests on one connection.
        using var connection = await RawConnection.OpenAsync(shared.Server.Port);
        var input = string.Concat(Enumerable.Repeat("a long input of many words ", 400));
        var embeddings = JsonSerializer.Serialize(new { model = Chat.Model, input, dimensions = 1000 });
        await connection.SendAsync(Post(Body("small first", 1)) + Post(embeddings, path: "/v1/embeddings") + Post(Body("small last", 2)));

        var (status, head, body) = await connection.ReadAnswerAsync();
        Chat.AssertComplete(status, body, 1);
        (status, head, body) = await connection.ReadAnswerAsync();
        Assert.Equal(HttpStatusCode.OK, status);
        AssertAnsweredByFront(head);
        Assert.True(Encoding.UTF8.GetByteCount(body) > 2048, $"the embeddings answer has only {body.Length} characters");
        using (var answer = JsonDocument.Parse(body))
        {
            Assert.Equal(1000, answer.RootElement.GetProperty("data")[0].GetProperty("embedding").GetArrayLength());
        }
        (status, head, body) = await connection.ReadAnswerAsync();
        Chat.AssertComplete(status, body, 2);
        AssertAnsweredByFront(head);
    }

    [Fact]
    public async Task A_request_that_arrives_in_pieces_is_served()
    {
        using var connection = await RawConnection.OpenAsync(shared.Server.Port);
        var request = Post(Body("slowly", 2));
        var cuts = new[] { 0, 5, 30, request.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 2, request.Length - 7, request.Length };
        for (var i = 1; i < cuts.Length; i++)
        {
            await connection.SendAsync(request[cuts[i - 1]..cuts[i]]);
            await Task.Delay(150);
        }
        var (status, head, body) = await connection.ReadAnswerAsync();
        Chat.AssertComplete(status, body, 2);
        AssertAnsweredByFront(head);
    }

    [Fact]
    public async Task The_latency_of_a_request_served_by_the_front_includes_its_body()
    {
        const string Sum = "atoll_gateway_request_duration_seconds_sum";
        var before = await shared.Server.MetricAsync(Sum);
        using var connection = await RawConnection.OpenAsync(shared.Server.Port);
        var request = Post(Body("a body that takes its time", 1));
        var half = request.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4 + 10;
        await connection.SendAsync(request[..half]);
        await Task.Delay(1500);
        await connection.SendAsync(request[half..]);
        var (status, head, body) = await connection.ReadAnswerAsync();
        Chat.AssertComplete(status, body, 1);
        AssertAnsweredByFront(head);

        // Observed just after the answer is written; one request with one token takes well under a second once its
        // body is in.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        double added;
        while ((added = await shared.Server.MetricAsync(Sum) - before) < 1.5 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.InRange(added, 1.5, 4);
    }

    [Fact]
    public async Task A_head_that_turns_out_not_to_be_the_fronts_after_a_pause_goes_to_Kestrel_whole()
    {
        using var connection = await RawConnection.OpenAsync(shared.Server.Port);
        var body = Body("chunked later", 2);
        var size = Encoding.UTF8.GetByteCount(body);
        // The front has examined the first part (and waits for more) before the part that makes it Kestrel's.
        await connection.SendAsync($"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {shared.Server.AdminToken}\r\n");
        await Task.Delay(300);
        await connection.SendAsync($"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{size:x}\r\n{body}\r\n0\r\n\r\n");
        var (status, head, answer) = await connection.ReadAnswerAsync();
        Chat.AssertComplete(status, answer, 2);
        AssertAnsweredByKestrel(head);
    }

    [Fact]
    public async Task A_head_that_trickles_in_over_many_reads_goes_to_Kestrel_and_is_served()
    {
        using var connection = await RawConnection.OpenAsync(shared.Server.Port);
        var request = Post(Body("trickle", 1));
        var headEnd = request.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var step = headEnd / 6;
        for (var at = 0; at < headEnd; at += step)
        {
            await connection.SendAsync(request[at..Math.Min(at + step, headEnd)]);
            await Task.Delay(120);
        }
        await connection.SendAsync(request[headEnd..]);
        var (status, head, body) = await connection.ReadAnswerAsync();
        Chat.AssertComplete(status, body, 1);
        AssertAnsweredByKestrel(head);
    }

    [Fact]
    public async Task A_body_that_comes_slower_than_Kestrels_minimum_rate_gets_408_and_the_connection_closes()
    {
        using var connection = await RawConnection.OpenAsync(shared.Server.Port);
        var request = Post(new string(' ', 4000) + Body("slow", 1));
        var bodyStart = request.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        await connection.SendAsync(request[..(bodyStart + 10)]);
        // 10 bytes a second: far under Kestrel's 240 bytes/s once its 5 s grace is over.
        var answer = connection.ReadAnswerAsync();
        for (var at = bodyStart + 10; at < request.Length && !answer.IsCompleted; at += 10)
        {
            await Task.Delay(1000);
            await Record.ExceptionAsync(() => connection.SendAsync(request[at..Math.Min(at + 10, request.Length)]));
        }
        var (status, head, body) = await answer;
        Assert.Equal(HttpStatusCode.RequestTimeout, status);
        Assert.Contains("\r\nConnection: close", head, StringComparison.OrdinalIgnoreCase);
        Chat.AssertOpenAiErrorJson(body, "request_timeout");
        Assert.True(await connection.ClosedByServerAsync(TimeSpan.FromSeconds(10)), "the connection stayed open after the 408");
    }

    [Fact]
    public async Task Connection_close_is_honoured_after_the_answer()
    {
        using var connection = await RawConnection.OpenAsync(shared.Server.Port);
        await connection.SendAsync(Post(Body("bye", 1), "Connection: close\r\n"));
        var (status, head, body) = await connection.ReadAnswerAsync();
        Chat.AssertComplete(status, body, 1);
        Assert.Contains("\r\nConnection: close", head, StringComparison.OrdinalIgnoreCase);
        Assert.True(await connection.ClosedByServerAsync(TimeSpan.FromSeconds(10)), "the server kept the connection open after Connection: close");
    }

    [Fact]
    public async Task Errors_from_the_front_are_in_OpenAI_shape_and_keep_the_connection()
    {
        using var connection = await RawConnection.OpenAsync(shared.Server.Port);
        await connection.SendAsync(Post("{\"model\":", bearer: null) + Post("{\"model\":\"m\"}") + Post(Body("after", 1)));
        var (status, head, body) = await connection.ReadAnswerAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        AssertAnsweredByFront(head);
        Assert.Contains("Content-Type: application/json", head, StringComparison.OrdinalIgnoreCase);
        Chat.AssertOpenAiErrorJson(body, "invalid_api_key");
        (status, _, body) = await connection.ReadAnswerAsync();
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Chat.AssertOpenAiErrorJson(body, param: "messages");
        (status, _, body) = await connection.ReadAnswerAsync();
        Chat.AssertComplete(status, body, 1);
    }

    [Fact]
    public async Task A_request_without_a_key_is_refused_before_its_body_is_read_or_buffered()
    {
        using var connection = await RawConnection.OpenAsync(shared.Server.Port);
        // 8 MB announced and never sent: the answer cannot wait for the body, and no buffer is taken for it.
        await connection.SendAsync("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 8000000\r\n\r\n{");
        var (status, head, body) = await connection.ReadAnswerAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        AssertAnsweredByFront(head);
        Chat.AssertOpenAiErrorJson(body, "invalid_api_key");
        // Nor is the connection held for a body that does not come: it closes once the 5 s drain time is up.
        Assert.True(await connection.ClosedByServerAsync(TimeSpan.FromSeconds(10)), "the server kept waiting for an unauthenticated 8 MB body");
    }

    [Fact]
    public async Task A_refused_body_is_drained_so_its_401_arrives_whole_and_the_connection_stays()
    {
        using var connection = await RawConnection.OpenAsync(shared.Server.Port);
        // 2 MB behind a wrong key, all sent before the answer is read, as SDKs send: a server that closed with the
        // body still arriving would reset the connection (this send fails) and could destroy the 401.
        var large = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"" + new string('x', 2_000_000) + "\"}]}";
        await connection.SendAsync(Post(large, bearer: "sk-atoll-wrong") + Post(Body("after the refused one", 1)));

        var (status, head, body) = await connection.ReadAnswerAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        AssertAnsweredByFront(head);
        Chat.AssertOpenAiErrorJson(body, "invalid_api_key");
        Assert.DoesNotContain("Connection: close", head, StringComparison.OrdinalIgnoreCase);
        (status, _, body) = await connection.ReadAnswerAsync();
        Chat.AssertComplete(status, body, 1);
    }

    [Fact]
    public async Task Requests_the_front_does_not_serve_go_to_Kestrel_with_their_bytes_intact()
    {
        using var connection = await RawConnection.OpenAsync(shared.Server.Port);
        // A query string is not the front's: Kestrel (with its Server header) serves it, then keeps the connection.
        var body = Body("via kestrel", 2);
        await connection.SendAsync(Post(body).Replace("/v1/chat/completions ", "/v1/chat/completions?x=1 ", StringComparison.Ordinal) + Post(Body("next", 1)));
        var (status, head, answer) = await connection.ReadAnswerAsync();
        Chat.AssertComplete(status, answer, 2);
        AssertAnsweredByKestrel(head);
        (status, head, answer) = await connection.ReadAnswerAsync();
        Chat.AssertComplete(status, answer, 1);
        AssertAnsweredByKestrel(head);
    }

    [Fact]
    public async Task Server_with_the_front_off_serves_forwarded_requests_through_Kestrel()
    {
        using var dir = new TempDirectory("front-off");
        await using var server = await GatewayServer.StartAsync(dir.Combine("server"), shared.Sims.Take(1).ToList(), "--http1-front", "false");
        using var connection = await RawConnection.OpenAsync(server.Port);
        await connection.SendAsync(Post(Body("kestrel only", 2), bearer: server.AdminToken));
        var (status, head, body) = await connection.ReadAnswerAsync();
        Chat.AssertComplete(status, body, 2);
        AssertAnsweredByKestrel(head);
    }

    [Fact]
    public async Task Server_stops_at_once_while_a_client_holds_an_idle_keep_alive_connection()
    {
        using var dir = new TempDirectory("front-stop");
        var server = await GatewayServer.StartAsync(dir.Combine("server"), shared.Sims.Take(1).ToList());
        await using (server)
        {
            using var connection = await RawConnection.OpenAsync(server.Port);
            await connection.SendAsync(Post(Body("then idle", 1), bearer: server.AdminToken));
            var (status, _, body) = await connection.ReadAnswerAsync();
            Chat.AssertComplete(status, body, 1);

            var stopping = global::System.Diagnostics.Stopwatch.StartNew();
            server.Process.SendSignal(Signals.Terminate);
            Assert.Equal(0, await server.Process.WaitForExitAsync(TimeSpan.FromSeconds(20)));
            // Kestrel's keep-alive timeout is 130 s and the host's shutdown timeout 30 s: an idle connection the
            // front did not close on request would hold the exit up for one of them.
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(10), $"the server took {stopping.Elapsed.TotalSeconds:0.0}s to stop");
            Assert.True(await connection.ClosedByServerAsync(TimeSpan.FromSeconds(5)), "the idle connection was not closed");
        }
    }

    [Theory]
    [InlineData(204)]
    [InlineData(304)]
    public async Task A_bodiless_answer_to_a_stream_goes_on_without_body_or_framing_and_the_connection_stays_in_step(int status)
    {
        // A model server that answers a stream request with a bodiless status and an event-stream type: passed on
        // as a stream, it would get a chunked body ("0\r\n\r\n") that the client reads as the next answer's start.
        var bodiless = $"HTTP/1.1 {status} {(status == 204 ? "No Content" : "Not Modified")}\r\nContent-Type: text/event-stream\r\n\r\n";
        using var upstream = RawModelServer.Start(head =>
            (TimeSpan.Zero, head.StartsWith("POST ", StringComparison.Ordinal) ? bodiless : RawModelServer.NotFound));
        using var dir = new TempDirectory("front-bodiless");
        await using var server = await GatewayServer.StartAsync(dir.Combine("server"), [], "--endpoint", $"odd={upstream.Url}");
        var stream = JsonSerializer.Serialize(Chat.Request("hi", 1, stream: true, model: "odd"));
        using var connection = await RawConnection.OpenAsync(server.Port);

        // The same request with a query string is Kestrel's: both paths pass the status on the same way.
        foreach (var path in new[] { "/v1/chat/completions", "/v1/chat/completions?x=1" })
        {
            var post = Post(stream, bearer: server.AdminToken, path: path);
            await connection.SendAsync(post + post);
            for (var answer = 0; answer < 2; answer++)
            {
                var (got, head, body) = await connection.ReadAnswerAsync();
                Assert.Equal((HttpStatusCode)status, got);
                Assert.DoesNotContain("Transfer-Encoding", head, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain("Content-Length", head, StringComparison.OrdinalIgnoreCase);
                Assert.Equal("", body);
                Assert.Equal(path.Contains('?', StringComparison.Ordinal), head.Contains("Server: Kestrel", StringComparison.OrdinalIgnoreCase));
            }
        }
    }

    private static void AssertAnsweredByFront(string head) => Assert.DoesNotContain("Server: Kestrel", head, StringComparison.OrdinalIgnoreCase);

    private static void AssertAnsweredByKestrel(string head) => Assert.Contains("Server: Kestrel", head, StringComparison.OrdinalIgnoreCase);

    private string Post(string body, string extraHeaders = "", string? bearer = "", string path = "/v1/chat/completions") =>
        $"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + (bearer is null ? "" : $"Authorization: Bearer {(bearer.Length > 0 ? bearer : shared.Server.AdminToken)}\r\n")
        + $"Content-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n{extraHeaders}\r\n{body}";

    private static string Body(string prompt, int maxTokens) => JsonSerializer.Serialize(Chat.Request(prompt, maxTokens));

    /// <summary>A bare HTTP/1.1 client connection that reads Content-Length answers one at a time.</summary>
    private sealed class RawConnection : IDisposable
    {
        private readonly Socket socket;
        private readonly List<byte> pending = [];

        private RawConnection(Socket socket) => this.socket = socket;

        public static async Task<RawConnection> OpenAsync(int port)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(IPAddress.Loopback, port);
            return new RawConnection(socket);
        }

        public async Task SendAsync(string text) => await socket.SendAsync(Encoding.UTF8.GetBytes(text));

        public async Task<(HttpStatusCode Status, string Head, string Body)> ReadAnswerAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            int headEnd;
            while ((headEnd = IndexOf(pending, "\r\n\r\n"u8)) < 0)
            {
                await ReceiveAsync(timeout.Token);
            }
            var head = Encoding.ASCII.GetString([.. pending.Take(headEnd)]);
            var status = (HttpStatusCode)int.Parse(head.Split(' ', 3)[1], global::System.Globalization.CultureInfo.InvariantCulture);
            // HTTP gives a 204 or 304 no body, so no Content-Length; every other answer here must have one.
            var length = status is HttpStatusCode.NoContent or HttpStatusCode.NotModified
                ? "0"
                : head.Split("\r\n").Single(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))[15..].Trim();
            var total = headEnd + 4 + int.Parse(length, global::System.Globalization.CultureInfo.InvariantCulture);
            while (pending.Count < total)
            {
                await ReceiveAsync(timeout.Token);
            }
            var body = Encoding.UTF8.GetString([.. pending.Skip(headEnd + 4).Take(total - headEnd - 4)]);
            pending.RemoveRange(0, total);
            return (status, head, body);
        }

        /// <summary>Whether the server closes the connection (end of stream or reset) within <paramref name="within"/>.</summary>
        public async Task<bool> ClosedByServerAsync(TimeSpan within)
        {
            using var timeout = new CancellationTokenSource(within);
            var buffer = new byte[4096];
            try
            {
                while (await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) > 0)
                {
                }
                return true;
            }
            catch (SocketException)
            {
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        public void Dispose() => socket.Dispose();

        private async Task ReceiveAsync(CancellationToken ct)
        {
            var buffer = new byte[16 * 1024];
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct);
            if (n == 0)
            {
                throw new IOException($"the server closed the connection; unread: [{Encoding.UTF8.GetString([.. pending])}]");
            }
            pending.AddRange(buffer.AsSpan(0, n));
        }

        private static int IndexOf(List<byte> bytes, ReadOnlySpan<byte> value)
        {
            for (var i = 0; i + value.Length <= bytes.Count; i++)
            {
                var match = true;
                for (var j = 0; j < value.Length && match; j++)
                {
                    match = bytes[i + j] == value[j];
                }
                if (match)
                {
                    return i;
                }
            }
            return -1;
        }
    }
}
