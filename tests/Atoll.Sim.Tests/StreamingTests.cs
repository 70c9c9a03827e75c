using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Atoll.Sim.Tests;

public class StreamingTests
{
    /// <summary>Reads the raw <c>data:</c> payloads of an event stream with the time each arrived.</summary>
    internal static async Task<List<(string Data, TimeSpan At)>> ReadEventsAsync(SimHost sim, string path, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        using var response = await sim.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var clock = Stopwatch.StartNew();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var events = new List<(string, TimeSpan)>();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add((line["data: ".Length..], clock.Elapsed));
            }
            else
            {
                Assert.Equal("", line);
            }
        }
        return events;
    }

    [Fact]
    public async Task Tokens_are_flushed_one_by_one_not_buffered_until_the_end()
    {
        var options = SimHost.Instant();
        options.InterTokenLatency = TimeSpan.FromMilliseconds(100);
        await using var sim = await SimHost.StartAsync(options);

        var events = await ReadEventsAsync(sim, "/v1/chat/completions",
            new { model = "sim-model", messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 5, stream = true });

        var tokens = events.Where(e => e.Data.Contains("\"content\"", StringComparison.Ordinal)).ToList();
        Assert.Equal(5, tokens.Count);
        // Four gaps of 100 ms: buffered output would arrive all at once.
        Assert.True(tokens[^1].At - tokens[0].At > TimeSpan.FromMilliseconds(250),
            $"first token at {tokens[0].At.TotalMilliseconds} ms, last at {tokens[^1].At.TotalMilliseconds} ms");
        Assert.Equal("[DONE]", events[^1].Data);
    }

    [Fact]
    public async Task Chat_stream_has_the_role_first_the_finish_reason_last_then_done()
    {
        await using var sim = await SimHost.StartAsync();

        var events = await ReadEventsAsync(sim, "/v1/chat/completions",
            new { messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 3, stream = true });

        Assert.Equal(5, events.Count); // three tokens, the finish chunk, [DONE]
        var chunks = events.SkipLast(1).Select(e => JsonDocument.Parse(e.Data).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        Assert.False(chunks[1].GetProperty("choices")[0].GetProperty("delta").TryGetProperty("role", out _));
        Assert.Equal("length", chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.All(chunks.SkipLast(1), c => Assert.Equal(JsonValueKind.Null, c.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind));
        Assert.All(chunks, c => Assert.False(c.TryGetProperty("usage", out _)));
        Assert.Equal("[DONE]", events[^1].Data);
    }

    [Fact]
    public async Task Include_usage_adds_a_last_chunk_with_empty_choices_and_the_usage()
    {
        await using var sim = await SimHost.StartAsync();

        var events = await ReadEventsAsync(sim, "/v1/chat/completions", new
        {
            messages = new[] { new { role = "user", content = "hi" } },
            max_tokens = 3,
            stream = true,
            stream_options = new { include_usage = true },
        });

        var last = JsonDocument.Parse(events[^2].Data).RootElement;
        Assert.Equal(0, last.GetProperty("choices").GetArrayLength());
        var usage = last.GetProperty("usage");
        Assert.Equal(3, usage.GetProperty("completion_tokens").GetInt32());
        Assert.True(usage.GetProperty("prompt_tokens").GetInt32() > 0);
        Assert.Equal(0, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.Single(events, e => e.Data.Contains("\"usage\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Text_completion_streams_text_chunks_that_add_up_to_the_non_streamed_text()
    {
        await using var sim = await SimHost.StartAsync();
        var request = new { model = "sim-model", prompt = "Once upon a time", max_tokens = 6 };

        using var whole = await sim.PostAsync("/v1/completions", request);
        var body = await SimHost.JsonAsync(whole);
        var events = await ReadEventsAsync(sim, "/v1/completions", new { request.model, request.prompt, request.max_tokens, stream = true });

        Assert.Equal("text_completion", body.GetProperty("object").GetString());
        Assert.StartsWith("cmpl-", body.GetProperty("id").GetString(), StringComparison.Ordinal);
        var text = body.GetProperty("choices")[0].GetProperty("text").GetString();
        var streamed = string.Concat(events.SkipLast(1)
            .Select(e => JsonDocument.Parse(e.Data).RootElement)
            .Select(c => c.GetProperty("choices")[0].GetProperty("text").GetString()));
        Assert.Equal(text, streamed);
        Assert.Equal(6, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.All(events.SkipLast(1), e => Assert.Contains("\"object\":\"text_completion\"", e.Data, StringComparison.Ordinal));
    }
}
