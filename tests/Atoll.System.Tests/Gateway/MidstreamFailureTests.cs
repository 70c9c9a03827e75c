using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using OpenAI.Chat;

namespace Atoll.System.Tests.Gateway;

/// <summary>
/// A model server that drops the connection part-way through every answer: streams end with an error the client
/// can see, and non-streaming clients never get a 200 with a broken body. Each test has its own sim, since every
/// failure counts towards the endpoint's ejection.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class MidstreamFailureTests
{
    private static readonly string[] Midstream = ["--failure-rate", "1", "--failure-kinds", "midstream"];

    [Fact]
    public async Task Backend_dying_mid_stream_ends_the_stream_with_an_error_event_and_non_streaming_gets_502_not_a_broken_200()
    {
        using var dir = new TempDirectory("gateway-midstream");
        await using var fleet = await GatewayFleet.StartAsync(dir, [Midstream]);
        var server = fleet.Server;

        // The status (200) and the first tokens have left when the backend dies, so the end of the stream must say so:
        // on the front (a connection of forwarded requests) and on Kestrel (a connection it was handed), which write
        // and cut a stream each in their own way.
        foreach (var kestrel in new[] { false, true })
        {
            using var kestrelClient = kestrel ? await server.KestrelClientAsync() : null; // null: Forward, the front
            using var response = await server.PostChatAsync(
                Chat.Request("a long answer please", 12, stream: true), server.AdminToken, HttpCompletionOption.ResponseHeadersRead, client: kestrelClient);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(kestrel, GatewayServer.AnsweredByKestrel(response));
            var data = await ReadUntilResetAsync(response);
            var via = kestrel ? "Kestrel" : "the front";
            Assert.True(data.Count >= 2, $"via {via}: expected some tokens then an error event, got: {string.Join(" | ", data)}");
            Assert.DoesNotContain("[DONE]", data);
            Assert.DoesNotContain(data.SkipLast(1), d => d.Contains("\"error\"", StringComparison.Ordinal));
            Chat.AssertOpenAiErrorJson(data[^1], code: "upstream_failed");
            Assert.Contains($"the model server {fleet.Sims[0].EndpointId} failed mid-stream", data[^1], StringComparison.Ordinal);
            Assert.DoesNotContain($":{fleet.Sims[0].Port}", data[^1], StringComparison.Ordinal);
        }

        // Non-streaming: the gateway buffers, sees the broken body and answers an error instead of a short 200. The
        // endpoint's failures are consecutive (two streams, then this), so it is soon ejected (after 3): then requests
        // are refused up front (503).
        Assert.True(new Atoll.Core.Routing.EjectionOptions().ConsecutiveFailures >= 3,
            "this test expects the default ejection threshold to allow two failed streams and a 502 before it ejects");
        for (var i = 0; i < 3; i++)
        {
            using var response = await server.PostChatAsync(Chat.Request($"whole answer {i}", 12), server.AdminToken);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable,
                $"non-streaming request {i} answered {(int)response.StatusCode}: {body}");
            if (i == 0)
            {
                Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            }
            Chat.AssertOpenAiErrorJson(body, code: response.StatusCode == HttpStatusCode.BadGateway ? "upstream_failed" : "no_endpoint_available");
        }
    }

    [Fact]
    public async Task A_stream_that_trickles_past_its_time_limit_or_goes_silent_ends_with_an_error_event()
    {
        // Model servers that send an SSE comment every 200 ms for ever (no token, no end), and one that sends the
        // head only. Without limits both would hold the client and an endpoint slot as long as they like.
        using var dir = new TempDirectory("gateway-stream-limits");
        using var trickling = RawModelServer.StartTrickling(TimeSpan.FromMilliseconds(100));
        using var silent = RawModelServer.StartTrickling(TimeSpan.MaxValue);
        await using var server = await GatewayServer.StartAsync(dir.Combine("server"), [],
            "--endpoint", $"trickle={trickling.Url}", "--endpoint", $"silent={silent.Url}",
            "--stream-timeout", "4s", "--stream-idle-timeout", "2s", "--first-byte-timeout", "1s", "--min-tokens-per-second", "10");

        // No max_tokens: the gateway's --stream-timeout. max_tokens 10: the longer of the first-byte and idle
        // timeouts plus 10 tokens at 10/s, 3 s (three times: a limit is no failure of the endpoint, which three
        // failures in a row would eject). Silent: the idle timeout, 2 s, a failure of the model server. The idle
        // timeout is 20 times the trickle's pace, so that a loaded machine's stalls do not end those streams first.
        var limited = Chat.Request("hi", 10, stream: true, model: "trickle");
        const string LimitedBy = "the gateway ended the stream from static/trickle after 3s, the longest a stream of max_tokens 10 may take at 10 tokens/s";
        var cases = new (string Name, object Body, string Code, string Expected, double Seconds)[]
        {
            ("no max_tokens", new { model = "trickle", messages = new[] { new { role = "user", content = "hi" } }, stream = true }, "stream_timeout",
                "the gateway ended the stream from static/trickle after 4s, the longest a stream may take on this gateway", 4),
            ("max_tokens 10", limited, "stream_timeout", LimitedBy, 3),
            ("max_tokens 10, again", limited, "stream_timeout", LimitedBy, 3),
            ("silent", Chat.Request("hi", 10, stream: true, model: "silent"), "upstream_failed",
                "the model server static/silent failed mid-stream (no data for 2s)", 2),
        };
        foreach (var (name, body, code, expected, seconds) in cases)
        {
            var watch = global::System.Diagnostics.Stopwatch.StartNew();
            using var response = await server.PostChatAsync(body, server.AdminToken, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var data = await ReadUntilResetAsync(response);
            var took = watch.Elapsed.TotalSeconds;

            Assert.True(data.Count == 1, $"{name}: expected only the error event, got: {string.Join(" | ", data)}");
            Assert.True(data[0].Contains(expected, StringComparison.Ordinal), $"{name}: expected \"{expected}\" in {data[0]}");
            Chat.AssertOpenAiErrorJson(data[0], code: code);
            Assert.True(took >= seconds - 0.1 && took < seconds + 2.5, $"{name}: ended after {took:0.00}s, expected about {seconds}s");
        }

        // Three streams ended at their limit in a row left the endpoint in service.
        using var fourth = await server.PostChatAsync(limited, server.AdminToken, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, fourth.StatusCode);
        var metrics = await server.MetricsAsync();
        Assert.Contains("code=\"stream_timeout\"", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_that_reads_slower_than_the_idle_timeout_still_gets_the_whole_stream()
    {
        // The idle timeout is for a model server that goes quiet, not for a client that reads slowly: while the
        // gateway waits for the client to take what it has, it is not waiting for the model server. 16 MB of SSE
        // comments fill every buffer between the gateway and a client that reads nothing for 5 s, two and a half
        // times the idle timeout (which is 2 s, not less, so that a stall of this loaded test host while the model
        // server writes cannot end the stream first).
        const int Pieces = 256, Size = 64 * 1024;
        using var dir = new TempDirectory("gateway-slow-reader");
        using var flooding = RawModelServer.StartFlooding(Pieces, Size);
        await using var server = await GatewayServer.StartAsync(dir.Combine("server"), [],
            "--endpoint", $"flood={flooding.Url}", "--stream-idle-timeout", "2s");

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(IPAddress.Loopback, server.Port);
        var body = JsonSerializer.Serialize(Chat.Request("hi", 10, stream: true, model: "flood"));
        await socket.SendAsync(Encoding.UTF8.GetBytes(
            $"POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer {server.AdminToken}\r\n" +
            $"Content-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\nConnection: close\r\n\r\n{body}"));
        using var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        string? cut = null;
        try
        {
            received.Write(buffer, 0, await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token)); // the stream has begun
            await Task.Delay(TimeSpan.FromSeconds(5));
            int n;
            while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token)) > 0)
            {
                received.Write(buffer, 0, n);
            }
        }
        catch (SocketException e)
        {
            cut = e.Message;
        }
        catch (OperationCanceledException)
        {
            cut = "no end within 60 s";
        }

        var text = Encoding.ASCII.GetString(received.GetBuffer(), 0, (int)received.Length);
        Assert.True(cut is null, $"the gateway cut the stream ({cut}) after {received.Length:N0} bytes, ending: {text[^Math.Min(300, text.Length)..]}");
        Assert.StartsWith("HTTP/1.1 200", text, StringComparison.Ordinal);
        var content = text[(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
        Assert.DoesNotContain("error", content, StringComparison.Ordinal);
        Assert.Equal((long)Pieces * Size, content.Count(c => c == 'x'));
        Assert.Contains("data: [DONE]", content, StringComparison.Ordinal);
    }

    /// <summary>
    /// The SSE data lines the client received before the gateway cut the connection (it ends a broken stream with an
    /// error event, then resets, so that clients that ignore the event still see a failure).
    /// </summary>
    private static async Task<List<string>> ReadUntilResetAsync(HttpResponseMessage response)
    {
        var text = new global::System.Text.StringBuilder();
        try
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            while (await reader.ReadLineAsync() is { } line)
            {
                text.Append(line).Append('\n');
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            // The reset after the error event.
        }
        return [.. Chat.DataLines(text.ToString())];
    }

    [Fact]
    public async Task Official_client_iterating_a_stream_that_broke_upstream_throws_instead_of_returning_a_short_answer()
    {
        using var dir = new TempDirectory("gateway-midstream-sdk");
        await using var fleet = await GatewayFleet.StartAsync(dir, [Midstream]);
        var client = OpenAiClientTests.Client(fleet.Server, fleet.Server.AdminToken);

        var tokens = 0;
        var thrown = await Record.ExceptionAsync(async () =>
        {
            await foreach (var update in client.CompleteChatStreamingAsync(
                [new UserChatMessage("another long answer")], new ChatCompletionOptions { MaxOutputTokenCount = 12 }))
            {
                tokens += update.ContentUpdate.Count;
            }
        });

        Assert.True(thrown is not null, $"the OpenAI .NET client read {tokens} of 12 tokens of a broken stream and reported no error");
    }
}
