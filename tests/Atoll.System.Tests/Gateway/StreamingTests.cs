using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
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
    /// who answered (Kestrel sends <c>Server: Kestrel</c>, the front does not), so neither path goes untested by
    /// accident of connection reuse.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Stream_reaches_the_client_token_by_token_not_buffered(bool kestrel)
    {
        const int tokens = 10;
        // One connection of its own, so which server answers is decided here and not by an earlier test's request.
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 })
        {
            BaseAddress = shared.Server.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(30),
        };
        if (kestrel)
        {
            using var metrics = await http.GetAsync(new Uri("metrics", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            // With a Content-Length, as the SDKs send it: a chunked body (JsonContent) is Kestrel's whatever the connection.
            Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(Chat.Request("Tell a story about a silver tide.", tokens, stream: true)))
            {
                Headers = { ContentType = new MediaTypeHeaderValue("application/json") },
            },
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", shared.Server.AdminToken);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(kestrel, response.Headers.Server.ToString().Contains("Kestrel", StringComparison.OrdinalIgnoreCase));

        // Read on a thread of its own with blocking reads: when this process's thread pool is starved (other test
        // classes run in parallel on a loaded CI machine), awaited reads resume late and bunch the arrivals
        // together, which would look like a buffering gateway.
        var body = await response.Content.ReadAsStreamAsync();
        var arrivals = await Task.Factory.StartNew(() => ReadDataLines(body), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

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

    /// <summary>The "data:" lines of an event stream with the time each was read, by blocking reads.</summary>
    private static List<(TimeSpan At, string Data)> ReadDataLines(Stream body)
    {
        var clock = Stopwatch.StartNew();
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

    [Fact]
    public async Task Client_leaving_mid_stream_cancels_the_request_on_the_model_server()
    {
        var before = await CancelledOnSimsAsync();
        using var leave = new CancellationTokenSource();
        // 100 tokens at 100 ms: ten seconds of work the sim does unless the gateway passes the cancellation on.
        var response = await shared.Server.PostChatAsync(
            Chat.Request("Recite every tide table you know.", 100, stream: true), shared.Server.AdminToken, HttpCompletionOption.ResponseHeadersRead, leave.Token);
        try
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(leave.Token));
            var first = await reader.ReadLineAsync(leave.Token);
            Assert.StartsWith("data:", first);
        }
        finally
        {
            await leave.CancelAsync();
            response.Dispose();
        }

        // Well before the ten seconds the answer would take, so the count is a cancellation, not a slow finish.
        double now = before;
        await Eventually.Until(async () => (now = await CancelledOnSimsAsync()) >= before + 1, TimeSpan.FromSeconds(5),
            "a sim counts the request as cancelled (atoll_sim_requests_cancelled_total)", () => $"{now} (was {before})");
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
