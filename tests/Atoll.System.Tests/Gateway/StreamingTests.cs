using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Atoll.Testing.Processes;

namespace Atoll.System.Tests.Gateway;

/// <summary>Streams pass through the gateway as they are produced, and a client leaving stops the model server's work.</summary>
[Collection(GatewayCollection.Name)]
public sealed class StreamingTests(SharedGatewayFixture shared)
{
    /// <summary>
    /// Both servers behind the gateway's port stream: the HTTP/1.1 front serves a connection whose first request is a
    /// forwarded one, and Kestrel keeps a connection it was handed (here by a GET /metrics first). Each case checks
    /// who answered, so neither path goes untested by accident of connection reuse.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Stream_reaches_the_client_token_by_token_not_buffered(bool kestrel)
    {
        const int tokens = 10;
        using var kestrelClient = kestrel ? await shared.Server.KestrelClientAsync() : null;
        var http = (HttpClient?)kestrelClient ?? shared.Server.Forward;
        using var request = GatewayServer.ChatRequest(Chat.Request("Tell a story about a silver tide.", tokens, stream: true), shared.Server.AdminToken);

        // Sent and read on a thread of its own with blocking calls, the clock started before the send: when this
        // process's thread pool is starved (other test classes run in parallel on a loaded CI machine), awaited reads
        // resume late and bunch the arrivals together, which would look like a buffering gateway.
        var (response, arrivals) = await Task.Factory.StartNew(() =>
        {
            var clock = Stopwatch.StartNew();
            var answer = http.Send(request, HttpCompletionOption.ResponseHeadersRead);
            return (answer, ReadDataLines(answer.Content.ReadAsStream(), clock));
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(kestrel, GatewayServer.AnsweredByKestrel(response));
        }

        Assert.Equal("[DONE]", arrivals[^1].Data);
        var text = new StringBuilder();
        foreach (var (_, data) in arrivals.SkipLast(1))
        {
            using var chunk = JsonDocument.Parse(data);
            if (chunk.RootElement.GetProperty("choices") is { ValueKind: JsonValueKind.Array } choices && choices.GetArrayLength() > 0
                && choices[0].GetProperty("delta").TryGetProperty("content", out var content))
            {
                text.Append(content.GetString());
            }
        }
        Assert.Equal(tokens, text.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        // The sim spaces 10 tokens 100 ms apart (±10%), so an unbuffered stream arrives in about ten bursts. A buffering
        // gateway delivers them in one. Count the gaps rather than the first-to-last spread: when this machine is loaded
        // the reader can start late and find the first few tokens already waiting (arrivals 0, 1, 1, 1, 1, 49, 143, ...
        // on CI), which shortens the spread but still leaves the later tokens arriving one by one.
        var gaps = arrivals.Zip(arrivals.Skip(1), (a, b) => b.At - a.At).Count(gap => gap >= TimeSpan.FromMilliseconds(40));
        Assert.True(gaps >= 3,
            $"the data lines arrived in {gaps + 1} bursts (gaps of 40 ms or more: {gaps}); an unbuffered stream of {tokens} tokens 100 ms apart "
            + $"arrives in about {tokens}: the stream was buffered (arrivals at {string.Join(", ", arrivals.Select(a => $"{a.At.TotalMilliseconds:0}"))} ms)");
    }

    /// <summary>The "data:" lines of an event stream with the time on <paramref name="clock"/> each was read, by blocking reads.</summary>
    private static List<(TimeSpan At, string Data)> ReadDataLines(Stream body, Stopwatch clock)
    {
        var arrivals = new List<(TimeSpan At, string Data)>();
        using var reader = new StreamReader(body);
        while (reader.ReadLine() is { } line)
        {
            if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                arrivals.Add((clock.Elapsed, line[5..].Trim()));
            }
        }
        return arrivals;
    }

    /// <summary>
    /// On the front (a connection of forwarded requests) and on Kestrel (a connection Kestrel was handed), streaming
    /// and not. A client waiting for a whole answer gets no bytes to fail on before it is ready: only the connection
    /// closing tells the gateway it left.
    /// </summary>
    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(true, false)]
    public async Task Client_leaving_mid_answer_cancels_the_request_on_the_model_server(bool kestrel, bool stream)
    {
        using var kestrelClient = kestrel ? await shared.Server.KestrelClientAsync() : null; // null: Forward, the front
        var before = await SettledCancelledOnSimsAsync();
        using var leave = new CancellationTokenSource();
        // 100 tokens at 100 ms: ten seconds of work the sim does unless the gateway passes the cancellation on.
        var body = Chat.Request($"Recite every tide table you know ({(kestrel ? "kestrel" : "front")}, {(stream ? "stream" : "whole")}).", 100, stream);
        if (stream)
        {
            var response = await shared.Server.PostChatAsync(body, shared.Server.AdminToken, HttpCompletionOption.ResponseHeadersRead, kestrelClient, leave.Token);
            try
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(kestrel, GatewayServer.AnsweredByKestrel(response));
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(leave.Token));
                var first = await reader.ReadLineAsync(leave.Token);
                Assert.StartsWith("data:", first);
            }
            finally
            {
                await leave.CancelAsync();
                response.Dispose();
            }
        }
        else
        {
            // Leave once the sim is at work on it (its first token is due after 50 ms).
            leave.CancelAfter(TimeSpan.FromMilliseconds(500));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(
                () => shared.Server.PostChatAsync(body, shared.Server.AdminToken, HttpCompletionOption.ResponseContentRead, kestrelClient, leave.Token));
        }
        // No answer to show who served it when the client left first: the request went on the one connection
        // Kestrel was handed, or on a fresh one (the front's) if that had closed.
        Assert.Equal(1, kestrelClient?.Connections ?? 1);

        // Well before the ten seconds the answer would take, so the count is a cancellation, not a slow finish.
        double now = before;
        await Eventually.Until(async () => (now = await CancelledOnSimsAsync()) >= before + 1, TimeSpan.FromSeconds(5),
            "a sim counts the request as cancelled (atoll_sim_requests_cancelled_total)", () => $"{now} (was {before})");
    }

    /// <summary>
    /// The sims' cancelled count once it stopped moving: a sim notices a request an earlier test left at its next
    /// token, up to a token's time after that test ended, and that late count must not pass for this test's.
    /// </summary>
    private async Task<double> SettledCancelledOnSimsAsync()
    {
        var last = await CancelledOnSimsAsync();
        for (var i = 0; i < 20; i++)
        {
            await Task.Delay(300);
            var now = await CancelledOnSimsAsync();
            if (now == last)
            {
                return now;
            }
            last = now;
        }
        return last;
    }

    private async Task<double> CancelledOnSimsAsync()
    {
        double sum = 0;
        foreach (var sim in shared.Sims)
        {
            sum += await sim.MetricAsync("atoll_sim_requests_cancelled_total");
        }
        return sum;
    }
}
