using System.CommandLine;
using Atoll.Cli.Hosting;
using Atoll.Sim;
using Microsoft.Extensions.Hosting;

namespace Atoll.Cli.Commands;

/// <summary><c>atoll sim</c>: an OpenAI-compatible model server that stands in for vLLM where there is no GPU.</summary>
internal static class SimCommand
{
    public static Command Create()
    {
        var d = new SimOptions();
        var host = new Option<string>("--host") { Description = "address to listen on", DefaultValueFactory = _ => d.Host };
        var port = new Option<int>("--port") { Description = "port to listen on (0 picks a free one)", DefaultValueFactory = _ => d.Port };
        var model = new Option<string>("--model") { Description = "name of the model served", DefaultValueFactory = _ => d.Model };
        var instance = new Option<string?>("--instance") { Description = "name sent back in the x-atoll-instance header [default: hostname:port]" };
        var ttft = Milliseconds("--ttft", "time to first token, on top of prefill (ms)", d.TimeToFirstToken);
        var itl = Milliseconds("--itl", "inter-token latency (ms)", d.InterTokenLatency);
        var prefill = Milliseconds("--prefill-per-token", "prefill time per prompt token not in the prefix cache (ms)", d.PrefillPerToken);
        var jitter = new Option<double>("--jitter") { Description = "random spread of every delay, as a fraction (0 to 1)", DefaultValueFactory = _ => d.Jitter };
        var maxNumSeqs = new Option<int>("--max-num-seqs") { Description = "requests generating at once; the rest wait", DefaultValueFactory = _ => d.MaxNumSeqs };
        var maxWaiting = new Option<int>("--max-waiting") { Description = "requests allowed to wait; more get 429", DefaultValueFactory = _ => d.MaxWaiting };
        var cacheBlocks = new Option<int>("--prefix-cache-blocks")
        {
            Description = $"prefix cache capacity in blocks of {SimOptions.PrefixBlockChars} prompt characters (0 turns it off)",
            DefaultValueFactory = _ => d.PrefixCacheBlocks,
        };
        var defaultMaxTokens = new Option<int>("--default-max-tokens") { Description = "output tokens when a request sets no max_tokens", DefaultValueFactory = _ => d.DefaultMaxTokens };
        var maxOutputTokens = new Option<int>("--max-output-tokens") { Description = "upper bound on output tokens per request", DefaultValueFactory = _ => d.MaxOutputTokens };
        var embeddingDim = new Option<int>("--embedding-dim") { Description = "length of embedding vectors", DefaultValueFactory = _ => d.EmbeddingDimensions };
        var startupDelay = Milliseconds("--startup-delay", "after start, /health answers 503 for this long (ms)", d.StartupDelay);
        var failureRate = new Option<double>("--failure-rate") { Description = "fraction of requests that fail on purpose (0 to 1)", DefaultValueFactory = _ => d.FailureRate };
        var failureKinds = new Option<string>("--failure-kinds")
        {
            Description = $"how injected failures fail, picked at random per request; comma list of {string.Join(", ", SimOptions.KnownFailureKinds)}",
            DefaultValueFactory = _ => string.Join(',', d.FailureKinds),
        };
        var seed = new Option<int?>("--seed") { Description = "seed of failure choice and jitter [default: from the clock]" };
        var keepAlive = new Option<double>("--keep-alive-timeout")
        {
            Description = "close an idle keep-alive connection after this long (s), as vLLM does (VLLM_HTTP_TIMEOUT_KEEP_ALIVE)",
            DefaultValueFactory = _ => d.KeepAliveTimeout.TotalSeconds,
        };
        var maxBodyBytes = new Option<long>("--max-body-bytes") { Description = "largest request body accepted; larger ones get 413", DefaultValueFactory = _ => d.MaxBodyBytes };

        var command = new Command("sim", "Run a simulated OpenAI-compatible model server (a vLLM stand-in) with configurable latency, queueing, prefix cache and failures")
        {
            host, port, model, instance, ttft, itl, prefill, jitter, maxNumSeqs, maxWaiting, cacheBlocks, defaultMaxTokens, maxOutputTokens,
            embeddingDim, startupDelay, failureRate, failureKinds, seed, maxBodyBytes, keepAlive, ParentWatch.Option,
        };
        Actions.Set(command, async (result, ct) =>
        {
            var options = new SimOptions
            {
                Host = result.GetValue(host)!,
                Port = result.GetValue(port),
                Model = result.GetValue(model)!,
                Instance = result.GetValue(instance),
                TimeToFirstToken = ToTimeSpan(result.GetValue(ttft), "--ttft"),
                InterTokenLatency = ToTimeSpan(result.GetValue(itl), "--itl"),
                PrefillPerToken = ToTimeSpan(result.GetValue(prefill), "--prefill-per-token"),
                Jitter = result.GetValue(jitter),
                MaxNumSeqs = result.GetValue(maxNumSeqs),
                MaxWaiting = result.GetValue(maxWaiting),
                PrefixCacheBlocks = result.GetValue(cacheBlocks),
                DefaultMaxTokens = result.GetValue(defaultMaxTokens),
                MaxOutputTokens = result.GetValue(maxOutputTokens),
                EmbeddingDimensions = result.GetValue(embeddingDim),
                StartupDelay = ToTimeSpan(result.GetValue(startupDelay), "--startup-delay"),
                FailureRate = result.GetValue(failureRate),
                FailureKinds = result.GetValue(failureKinds)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
                Seed = result.GetValue(seed),
                MaxBodyBytes = result.GetValue(maxBodyBytes),
                KeepAliveTimeout = result.GetValue(keepAlive) is var seconds && double.IsFinite(seconds) && seconds is >= 1 and <= 86_400
                    ? TimeSpan.FromSeconds(seconds)
                    : throw new ArgumentException($"invalid --keep-alive-timeout {seconds}: expected 1 to 86400 (seconds)"),
            };
            const string listenHint = "choose another --port";
            ListenProbe.ThrowIfInUse(options.ListenUrl, listenHint);
            using var cts = ParentWatch.Link(result, ct);
            await using var app = SimServer.Build(options);
            try
            {
                await app.StartAsync(cts.Token).ConfigureAwait(false);
            }
            catch (IOException e) when (e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                throw new CliException($"cannot listen on {options.ListenUrl}: address already in use ({listenHint})");
            }
            await app.WaitForShutdownAsync(cts.Token).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    private static Option<double> Milliseconds(string name, string description, TimeSpan defaultValue) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue.TotalMilliseconds };

    /// <summary>NaN and values beyond a day are refused here, before <see cref="TimeSpan"/> would throw its own less helpful error.</summary>
    private static TimeSpan ToTimeSpan(double milliseconds, string option) =>
        double.IsFinite(milliseconds) && milliseconds is >= 0 and <= 86_400_000
            ? TimeSpan.FromMilliseconds(milliseconds)
            : throw new ArgumentException($"invalid {option} {milliseconds}: expected 0 to 86400000 (milliseconds)");
}
