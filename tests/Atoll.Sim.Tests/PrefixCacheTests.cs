using System.ClientModel;
using OpenAI;
using OpenAI.Chat;

namespace Atoll.Sim.Tests;

public class PrefixCacheTests
{
    private static readonly string SharedPrefix = string.Concat(Enumerable.Repeat("You are a helpful assistant for coral reef science. ", 30));

    [Fact]
    public async Task A_second_request_sharing_a_long_prefix_reports_cached_tokens_and_the_hits_counter_grows()
    {
        await using var sim = await SimHost.StartAsync();
        var client = new ChatClient("sim-model", new ApiKeyCredential("x"), new OpenAIClientOptions { Endpoint = sim.OpenAiEndpoint });

        ChatCompletion first = await client.CompleteChatAsync(new SystemChatMessage(SharedPrefix), new UserChatMessage("What is an atoll?"));
        var hitsAfterFirst = await sim.MetricAsync("vllm:prefix_cache_hits_total");
        ChatCompletion second = await client.CompleteChatAsync(new SystemChatMessage(SharedPrefix), new UserChatMessage("How do lagoons form?"));
        var hitsAfterSecond = await sim.MetricAsync("vllm:prefix_cache_hits_total");

        Assert.Equal(0, first.Usage.InputTokenDetails.CachedTokenCount);
        var cached = second.Usage.InputTokenDetails.CachedTokenCount;
        Assert.True(cached >= SharedPrefix.Length / 4 - 16, $"cached {cached} of a {SharedPrefix.Length}-character shared prefix");
        Assert.True(cached < second.Usage.InputTokenCount);
        Assert.Equal(0, hitsAfterFirst);
        Assert.Equal(cached, hitsAfterSecond);
        Assert.Equal(first.Usage.InputTokenCount + second.Usage.InputTokenCount, await sim.MetricAsync("vllm:prefix_cache_queries_total"));
    }

    [Fact]
    public async Task A_prompt_with_a_different_start_gets_no_hits_even_if_its_tail_matches()
    {
        await using var sim = await SimHost.StartAsync();

        using var first = await sim.PostAsync("/v1/completions", new { prompt = "A" + SharedPrefix, max_tokens = 1 });
        using var second = await sim.PostAsync("/v1/completions", new { prompt = "B" + SharedPrefix, max_tokens = 1 });

        var usage = (await SimHost.JsonAsync(second)).GetProperty("usage");
        Assert.Equal(0, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
    }

    [Fact]
    public async Task Cached_blocks_skip_their_prefill_time()
    {
        // 1 ms of prefill per token, nothing else: time advances exactly as much as the uncached part needs.
        var time = new CountingTimeProvider();
        var options = SimHost.Instant();
        options.PrefillPerToken = TimeSpan.FromMilliseconds(1);
        await using var sim = await SimHost.StartAsync(options, time);
        var shared = new string('x', 64 * 20);
        var firstPrompt = shared + new string('a', 100);
        var secondPrompt = shared + new string('b', 100);

        var (firstResponse, firstPrefill) = await RunAdvancingAsync(time, 1, sim.PostAsync("/v1/completions", new { prompt = firstPrompt, max_tokens = 1 }));
        var (secondResponse, secondPrefill) = await RunAdvancingAsync(time, 2, sim.PostAsync("/v1/completions", new { prompt = secondPrompt, max_tokens = 1 }));
        using var _ = firstResponse;
        using var __ = secondResponse;

        // Uncached, the first needs all 345 tokens of prefill; 20 blocks of 64 characters = 320 tokens are cached for
        // the second, which needs only the other 25 (fake time is advanced 1 ms at a time until each answers, so a
        // step taken before the sim started waiting can add a little).
        Assert.InRange(firstPrefill, (firstPrompt.Length + 3) / 4, ((firstPrompt.Length + 3) / 4) + 40);
        Assert.InRange(secondPrefill, ((secondPrompt.Length + 3) / 4) - 320, ((secondPrompt.Length + 3) / 4) - 320 + 40);
        var cached = (await SimHost.JsonAsync(secondResponse)).GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32();
        Assert.Equal(320, cached);
        Assert.Equal(System.Net.HttpStatusCode.OK, firstResponse.StatusCode);
    }

    /// <summary>Advances fake time 1 ms at a time until the request answers; returns the answer and the milliseconds it took.</summary>
    private static async Task<(HttpResponseMessage Response, int Milliseconds)> RunAdvancingAsync(CountingTimeProvider time, int timers, Task<HttpResponseMessage> request)
    {
        // Start advancing once the sim waits on its prefill timer, so that no step is spent before it.
        await time.WaitForTimersAsync(timers);
        var advanced = 0;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!request.IsCompleted && DateTime.UtcNow < deadline)
        {
            time.Advance(TimeSpan.FromMilliseconds(1));
            advanced++;
            await Task.WhenAny(request, Task.Delay(2));
        }
        return (await request.WaitAsync(TimeSpan.FromSeconds(1)), advanced);
    }

    [Fact]
    public void Only_leading_blocks_hit_and_the_least_recently_used_blocks_are_evicted()
    {
        var cache = new PrefixCache(capacityBlocks: 4);
        var a = new string('a', 64);
        var b = new string('b', 64);
        var c = new string('c', 64);

        Assert.Equal(0, cache.LookupAndInsert("m", a + b));
        Assert.Equal(2, cache.LookupAndInsert("m", a + b + c));
        Assert.Equal(0, cache.LookupAndInsert("m", b + c));
        Assert.Equal(0, cache.LookupAndInsert("other-model", a + b));
        Assert.Equal(4, cache.Count);
        // a+b was touched before b+c and other-model's blocks, so its blocks went first.
        Assert.Equal(0, cache.LookupAndInsert("m", a));
    }
}
