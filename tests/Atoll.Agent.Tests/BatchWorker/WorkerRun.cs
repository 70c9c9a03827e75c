using System.Text;
using Atoll.Agent.BatchWorker;
using Atoll.Core.Contracts;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atoll.Agent.Tests.BatchWorker;

/// <summary>A batch worker running against a <see cref="FakeLeaseServer"/> and a <see cref="FakeModelServer"/> until disposed.</summary>
internal sealed class WorkerRun : IAsyncDisposable
{
    private readonly CancellationTokenSource stop = new();
    private readonly HttpClient controlPlane;
    private readonly HttpClient plain;

    private WorkerRun(AgentOptions options)
    {
        controlPlane = new HttpClient { BaseAddress = options.Server, Timeout = Timeout.InfiniteTimeSpan };
        plain = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var worker = new Agent.BatchWorker.BatchWorker(options, new BatchLeaseClient(controlPlane, options.RequestTimeout), new SignedUrlClient(plain),
            new LocalModelClient(plain, options.BatchRequestTimeout), TimeProvider.System, NullLogger.Instance);
        Run = worker.RunAsync(FakeLeaseServer.Credential, stop.Token);
    }

    /// <summary>The worker's run: ends only when stopped (cancelled) or refused.</summary>
    public Task Run { get; }

    public static WorkerRun Start(FakeLeaseServer server, FakeModelServer model, int yieldAbove = 0, int maxRetries = 2, int concurrency = 4) =>
        new(Options(server, model, yieldAbove, maxRetries, concurrency));

    public static AgentOptions Options(FakeLeaseServer server, FakeModelServer model, int yieldAbove = 0, int maxRetries = 2, int concurrency = 4) => new()
    {
        Server = server.Address,
        Name = "n1",
        StateDir = Path.GetTempPath(),
        Models = [new ModelEndpoint("llama", new Uri(model.Address, "/v1").ToString())],
        InitialBackoff = TimeSpan.FromMilliseconds(20),
        MaxBackoff = TimeSpan.FromMilliseconds(100),
        RequestTimeout = TimeSpan.FromSeconds(5),
        BatchConcurrency = concurrency,
        BatchYieldAbove = yieldAbove,
        BatchMaxRetries = maxRetries,
        BatchRetryDelay = TimeSpan.FromMilliseconds(10),
        BatchRequestTimeout = TimeSpan.FromSeconds(20),
        LeaseWaitSeconds = 1,
        LeaseHeartbeatInterval = TimeSpan.FromMilliseconds(100),
    };

    /// <summary>A JSONL input of <paramref name="lines"/> requests: custom_id r{i}, message content line-{i}.</summary>
    public static byte[] Input(int lines)
    {
        var text = new StringBuilder();
        for (var i = 0; i < lines; i++)
        {
            text.Append($$$"""{"custom_id":"r{{{i}}}","method":"POST","url":"/v1/chat/completions","body":{"model":"llama","messages":[{"content":"line-{{{i}}}","role":"user"}],"max_tokens":5}}""").Append('\n');
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    public static async Task<bool> EventuallyAsync(Func<bool> condition, double seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(10);
        }
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        try
        {
            await Run;
        }
        catch (OperationCanceledException)
        {
        }
        stop.Dispose();
        controlPlane.Dispose();
        plain.Dispose();
    }
}
