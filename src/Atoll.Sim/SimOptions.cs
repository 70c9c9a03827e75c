using System.Globalization;

namespace Atoll.Sim;

/// <summary>Settings of <c>atoll sim</c>, an OpenAI-compatible stand-in for vLLM; the defaults run on one machine.</summary>
public sealed class SimOptions
{
    /// <summary>Failure kinds <see cref="FailureKinds"/> accepts.</summary>
    public static readonly IReadOnlyList<string> KnownFailureKinds = ["500", "429", "invalid", "model-not-found", "hang", "reset", "midstream"];

    /// <summary>The failure kinds that answer (as opposed to hanging or dropping the connection).</summary>
    public static readonly IReadOnlyList<string> DefaultFailureKinds = ["500", "429", "invalid", "model-not-found"];

    /// <summary>Address to listen on.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>Port to listen on; 0 picks a free one.</summary>
    public int Port { get; set; } = 8000;

    /// <summary>The one model this instance serves.</summary>
    public string Model { get; set; } = "sim-model";

    /// <summary>Name sent back in <c>x-atoll-instance</c>; null means <c>hostname:port</c>.</summary>
    public string? Instance { get; set; }

    /// <summary>Time to first token, on top of prefill.</summary>
    public TimeSpan TimeToFirstToken { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Time between two output tokens.</summary>
    public TimeSpan InterTokenLatency { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Prefill time per prompt token that is not in the prefix cache.</summary>
    public TimeSpan PrefillPerToken { get; set; } = TimeSpan.FromMilliseconds(0.1);

    /// <summary>Each delay is scaled by a random factor in [1 - Jitter, 1 + Jitter].</summary>
    public double Jitter { get; set; } = 0.1;

    /// <summary>Requests generating at once; the rest wait.</summary>
    public int MaxNumSeqs { get; set; } = 16;

    /// <summary>Requests allowed to wait for a slot; more are answered 429.</summary>
    public int MaxWaiting { get; set; } = 256;

    /// <summary>Prefix cache capacity in blocks of <see cref="PrefixBlockChars"/> characters; 0 disables it.</summary>
    public int PrefixCacheBlocks { get; set; } = 4096;

    /// <summary>Output tokens when the request does not say.</summary>
    public int DefaultMaxTokens { get; set; } = 16;

    /// <summary>Upper bound on output tokens, whatever the request asks.</summary>
    public int MaxOutputTokens { get; set; } = 1024;

    /// <summary>Length of embedding vectors when the request does not ask for <c>dimensions</c>.</summary>
    public int EmbeddingDimensions { get; set; } = 16;

    /// <summary>After start, <c>/health</c> answers 503 for this long.</summary>
    public TimeSpan StartupDelay { get; set; } = TimeSpan.Zero;

    /// <summary>Fraction of OpenAI requests that fail on purpose, 0 to 1.</summary>
    public double FailureRate { get; set; }

    /// <summary>How injected failures fail, one picked at random per failing request (see <see cref="KnownFailureKinds"/>).</summary>
    public IReadOnlyList<string> FailureKinds { get; set; } = DefaultFailureKinds;

    /// <summary>Seed of failure choice and jitter; null seeds from the clock.</summary>
    public int? Seed { get; set; }

    /// <summary>
    /// Largest request body accepted; larger ones get 413. Above the gateway's default limit (8 MiB), so behind a
    /// gateway it is the gateway's own 413 that clients meet.
    /// </summary>
    public long MaxBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// An idle keep-alive connection is closed after this long, as vLLM's API server does (uvicorn's
    /// <c>timeout_keep_alive</c>, <c>VLLM_HTTP_TIMEOUT_KEEP_ALIVE</c>: 5 s by default), so clients and proxies meet
    /// the connection closes they meet in production. Kestrel checks once a second and allows one more: closed 5 to
    /// 7 s after the last answer.
    /// </summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Characters per prefix-cache block (about 16 tokens).</summary>
    public const int PrefixBlockChars = 64;

    /// <summary>The URL Kestrel listens on.</summary>
    public string ListenUrl => Host.Contains(':', StringComparison.Ordinal) && !Host.StartsWith('[')
        ? $"http://[{Host}]:{Port}"
        : $"http://{Host}:{Port}";

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad setting (as its command-line option) and what is accepted.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Host))
        {
            throw Invalid("--host", Host, "an address such as 127.0.0.1 or 0.0.0.0");
        }
        Require(Port is >= 0 and <= 65535, "--port", Port, "0 to 65535");
        if (string.IsNullOrWhiteSpace(Model))
        {
            throw Invalid("--model", Model, "a model name");
        }
        if (Instance is not null && string.IsNullOrWhiteSpace(Instance))
        {
            throw Invalid("--instance", Instance, "a name");
        }
        RequireDelay(TimeToFirstToken, "--ttft");
        RequireDelay(InterTokenLatency, "--itl");
        RequireDelay(PrefillPerToken, "--prefill-per-token");
        RequireDelay(StartupDelay, "--startup-delay");
        Require(KeepAliveTimeout >= TimeSpan.FromSeconds(1) && KeepAliveTimeout <= TimeSpan.FromDays(1), "--keep-alive-timeout",
            KeepAliveTimeout.TotalSeconds, "1 to 86400 (seconds)");
        Require(Jitter is >= 0 and <= 1, "--jitter", Jitter, "0 to 1");
        Require(MaxNumSeqs >= 1, "--max-num-seqs", MaxNumSeqs, "1 or more");
        Require(MaxWaiting >= 0, "--max-waiting", MaxWaiting, "0 or more");
        Require(PrefixCacheBlocks >= 0, "--prefix-cache-blocks", PrefixCacheBlocks, "0 (off) or more");
        Require(MaxOutputTokens >= 1, "--max-output-tokens", MaxOutputTokens, "1 or more");
        Require(DefaultMaxTokens >= 1 && DefaultMaxTokens <= MaxOutputTokens, "--default-max-tokens", DefaultMaxTokens,
            $"1 to --max-output-tokens ({MaxOutputTokens})");
        Require(EmbeddingDimensions is >= 1 and <= 65536, "--embedding-dim", EmbeddingDimensions, "1 to 65536");
        Require(FailureRate is >= 0 and <= 1, "--failure-rate", FailureRate, "0 to 1");
        Require(MaxBodyBytes >= 1, "--max-body-bytes", MaxBodyBytes, "1 or more");
        if (FailureKinds is null || FailureKinds.Count == 0 || FailureKinds.Any(k => !KnownFailureKinds.Contains(k)))
        {
            throw Invalid("--failure-kinds", string.Join(',', FailureKinds ?? []),
                $"a comma list of {string.Join(", ", KnownFailureKinds)}");
        }
    }

    private static void RequireDelay(TimeSpan value, string option)
    {
        if (value < TimeSpan.Zero || value > TimeSpan.FromDays(1))
        {
            throw Invalid(option, value.TotalMilliseconds, "0 to 86400000 (milliseconds)");
        }
    }

    private static void Require(bool ok, string option, IConvertible value, string expected)
    {
        if (!ok)
        {
            throw Invalid(option, value, expected);
        }
    }

    private static ArgumentException Invalid(string option, IConvertible? value, string expected) =>
        new($"invalid {option} {Convert.ToString(value, CultureInfo.InvariantCulture)}: expected {expected}");
}
