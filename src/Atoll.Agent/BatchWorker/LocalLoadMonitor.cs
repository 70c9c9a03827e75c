using Microsoft.Extensions.Logging;

namespace Atoll.Agent.BatchWorker;

/// <summary>
/// How busy one local model server is with interactive traffic: vLLM's running + waiting requests from
/// <c>/metrics</c>, minus the batch requests this worker has in flight there (those count in vLLM's gauges too,
/// and batch work must not yield to itself). Readings are cached briefly so that many lines share one scrape.
/// <para>
/// A worker that yields checks again once a second: it scrapes the model server for as long as interactive traffic
/// stays above the limit, whether or not any batch work is queued, and vLLM renders its <c>/metrics</c> in Python on
/// the node's CPU. Checks every 250 ms with readings cached for 500 ms (the first setting) scraped about twice a
/// second per busy node, for a resumption half a second sooner, which batch work (cost first) does not need.
/// </para>
/// </summary>
internal sealed class LocalLoadMonitor(LocalModelClient client, Uri metricsUrl, string model, TimeProvider time, ILogger logger)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan PollEvery = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ScrapeTimeout = TimeSpan.FromSeconds(2);

    private readonly Lock gate = new();
    private int inFlight;
    private Task<int?>? reading;
    private long readingAt;

    /// <summary>Batch requests of this worker now on the server.</summary>
    public int InFlight => Volatile.Read(ref inFlight);

    public void RequestStarted() => Interlocked.Increment(ref inFlight);

    public void RequestEnded() => Interlocked.Decrement(ref inFlight);

    /// <summary>Interactive requests running or waiting on the server; null when it has no usable <c>/metrics</c>.</summary>
    public Task<int?> InteractiveLoadAsync(CancellationToken ct)
    {
        lock (gate)
        {
            // One scrape at a time, shared by every caller until it is older than CacheFor.
            if (reading is null || (reading.IsCompleted && time.GetElapsedTime(readingAt) >= CacheFor))
            {
                readingAt = time.GetTimestamp();
                reading = ScrapeAsync(InFlight);
            }
            return reading.WaitAsync(ct);
        }
    }

    /// <summary>True when the server is busy: interactive load above <paramref name="yieldAbove"/> (0 never yields).</summary>
    public async ValueTask<bool> IsBusyAsync(int yieldAbove, CancellationToken ct) =>
        yieldAbove > 0 && await InteractiveLoadAsync(ct).ConfigureAwait(false) > yieldAbove;

    /// <summary>Waits while the server is busy; returns at once when it is not or yielding is off.</summary>
    public async Task WaitUntilQuietAsync(int yieldAbove, CancellationToken ct)
    {
        if (!await IsBusyAsync(yieldAbove, ct).ConfigureAwait(false))
        {
            return;
        }
        var started = time.GetTimestamp();
        logger.LogDebug("Batch work for {Model} yields: {Load} interactive requests on the local server (limit {Limit})",
            model, await InteractiveLoadAsync(ct).ConfigureAwait(false), yieldAbove);
        do
        {
            await Task.Delay(PollEvery, time, ct).ConfigureAwait(false);
        }
        while (await IsBusyAsync(yieldAbove, ct).ConfigureAwait(false));
        logger.LogDebug("Batch work for {Model} resumes after yielding {Seconds:F1}s", model, time.GetElapsedTime(started).TotalSeconds);
    }

    private async Task<int?> ScrapeAsync(int ours)
    {
        try
        {
            var text = await client.GetTextAsync(metricsUrl, ScrapeTimeout, CancellationToken.None).ConfigureAwait(false);
            if (text is null)
            {
                return null;
            }
            var running = PrometheusGauges.Sum(text, "vllm:num_requests_running");
            var waiting = PrometheusGauges.Sum(text, "vllm:num_requests_waiting");
            return running is null && waiting is null ? null : Math.Max(0, (int)Math.Round((running ?? 0) + (waiting ?? 0)) - ours);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutException)
        {
            return null; // no metrics: batch work does not wait (the requests themselves will show if the server is down)
        }
    }
}
