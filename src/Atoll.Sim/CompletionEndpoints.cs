using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Atoll.Sim;

/// <summary>
/// <c>POST /v1/chat/completions</c> and <c>POST /v1/completions</c>: wait for a slot, prefill what the prefix
/// cache does not hold, then produce deterministic tokens at the configured pace, whole or as server-sent events.
/// </summary>
internal sealed class CompletionEndpoints(SimRuntime sim)
{
    /// <summary>Tokens a <c>midstream</c> failure lets through before the connection drops.</summary>
    private const int MidstreamTokens = 3;

    public Task ChatAsync(HttpContext ctx) =>
        OpenAiPipeline.RunAsync(ctx, sim, (body, arrived, ct) => CompleteAsync(ctx, body, chat: true, arrived, ct));

    public Task TextAsync(HttpContext ctx) =>
        OpenAiPipeline.RunAsync(ctx, sim, (body, arrived, ct) => CompleteAsync(ctx, body, chat: false, arrived, ct));

    private async Task<string> CompleteAsync(HttpContext ctx, JsonElement body, bool chat, long arrived, CancellationToken ct)
    {
        var request = CompletionRequest.Parse(body, chat, sim.Options);
        var failure = sim.PickFailure();
        if (await FailureInjection.ApplyAsync(failure, ctx, sim, ct).ConfigureAwait(false))
        {
            return OpenAiPipeline.Aborted;
        }
        using var lease = await sim.Scheduler.AcquireAsync(ct).ConfigureAwait(false)
            ?? throw OpenAiException.RateLimited(
                $"The server is at capacity: {sim.Options.MaxNumSeqs} requests running and {sim.Options.MaxWaiting} waiting (--max-waiting). Retry later.");
        sim.Metrics.QueueTime.Observe(sim.Time.GetElapsedTime(arrived));

        var promptTokens = TextGenerator.CountTokens(request.Prompt.Length);
        var hitBlocks = sim.Cache.LookupAndInsert(request.Model, request.Prompt);
        var cachedTokens = Math.Min(promptTokens, TextGenerator.CountTokens(hitBlocks * SimOptions.PrefixBlockChars));
        sim.Metrics.PrefixQueried(promptTokens, cachedTokens);
        lease.AddTokens(promptTokens);
        var prefill = (sim.Options.PrefillPerToken * (promptTokens - cachedTokens)) + sim.Options.TimeToFirstToken;
        await sim.DelayAsync(sim.Jittered(prefill), ct).ConfigureAwait(false);
        sim.Metrics.TimeToFirstToken.Observe(sim.Time.GetElapsedTime(arrived));

        var tokens = TextGenerator.Tokens(request.Model, request.Prompt, request.MaxTokens);
        var finishReason = request.MaxTokensGiven ? "length" : "stop";
        var usage = new CompletionJson.Usage(promptTokens, tokens.Length, cachedTokens);
        var json = new CompletionJson(chat, (chat ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N"),
            sim.Time.GetUtcNow().ToUnixTimeSeconds(), request.Model);
        var abortAfter = failure == FailureInjection.Midstream ? Math.Min(MidstreamTokens, tokens.Length) : -1;

        if (request.Stream)
        {
            JsonResponse.StartEventStream(ctx);
        }
        for (var i = 0; i < tokens.Length; i++)
        {
            if (i > 0)
            {
                var gap = sim.Jittered(sim.Options.InterTokenLatency);
                await sim.DelayAsync(gap, ct).ConfigureAwait(false);
                sim.Metrics.InterTokenLatency.Observe(gap);
            }
            lease.AddTokens(1);
            sim.Metrics.TokenGenerated();
            if (request.Stream)
            {
                var first = i == 0;
                var token = tokens[i];
                await JsonResponse.WriteEventAsync(ctx, w => json.WriteChunk(w, token, first, null), ct).ConfigureAwait(false);
                if (i + 1 == abortAfter)
                {
                    await FailureInjection.AbortAfterSendingAsync(ctx, ct).ConfigureAwait(false);
                    return OpenAiPipeline.Aborted;
                }
            }
        }

        if (request.Stream)
        {
            await JsonResponse.WriteEventAsync(ctx, w => json.WriteChunk(w, null, false, finishReason), ct).ConfigureAwait(false);
            if (request.IncludeUsage)
            {
                await JsonResponse.WriteEventAsync(ctx, w => json.WriteUsageChunk(w, usage), ct).ConfigureAwait(false);
            }
            await JsonResponse.WriteDoneAsync(ctx, ct).ConfigureAwait(false);
        }
        else
        {
            var text = string.Concat(tokens);
            var response = JsonResponse.Serialize(w => json.WriteResponse(w, text, finishReason, usage));
            if (abortAfter >= 0)
            {
                await FailureInjection.WriteHalfAndAbortAsync(ctx, response, ct).ConfigureAwait(false);
                return OpenAiPipeline.Aborted;
            }
            await JsonResponse.WriteAsync(ctx, StatusCodes.Status200OK, response, ct).ConfigureAwait(false);
        }
        sim.Metrics.EndToEnd.Observe(sim.Time.GetElapsedTime(arrived));
        return OpenAiPipeline.Ok;
    }
}
