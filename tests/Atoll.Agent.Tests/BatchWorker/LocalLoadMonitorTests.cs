using Atoll.Agent.BatchWorker;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Atoll.Agent.Tests.BatchWorker;

public sealed class LocalLoadMonitorTests : IAsyncLifetime
{
    private readonly FakeTimeProvider time = new();
    private static readonly HttpClient Http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private FakeModelServer model = null!;

    public async Task InitializeAsync() => model = await FakeModelServer.StartAsync();

    public async Task DisposeAsync() => await model.DisposeAsync();

    [Fact]
    public async Task Readings_are_cached_briefly_then_scraped_again()
    {
        var monitor = Monitor();
        model.MetricsText = Metrics(running: 6, waiting: 4);
        Assert.Equal(10, await monitor.InteractiveLoadAsync(default));

        model.MetricsText = Metrics(running: 1, waiting: 0);
        Assert.Equal(10, await monitor.InteractiveLoadAsync(default));
        time.Advance(LocalLoadMonitor.CacheFor);
        Assert.Equal(1, await monitor.InteractiveLoadAsync(default));
    }

    [Fact]
    public async Task The_workers_own_requests_do_not_count_as_interactive_traffic()
    {
        var monitor = Monitor();
        monitor.RequestStarted();
        monitor.RequestStarted();
        monitor.RequestStarted();
        model.MetricsText = Metrics(running: 5, waiting: 0);
        Assert.Equal(2, await monitor.InteractiveLoadAsync(default));
        Assert.False(await monitor.IsBusyAsync(4, default));
        Assert.True(await monitor.IsBusyAsync(1, default));
    }

    [Fact]
    public async Task No_metrics_means_not_busy_and_a_limit_of_0_never_yields()
    {
        var monitor = Monitor();
        model.MetricsText = null;
        Assert.Null(await monitor.InteractiveLoadAsync(default));
        Assert.False(await monitor.IsBusyAsync(1, default));

        model.MetricsText = Metrics(running: 100, waiting: 100);
        time.Advance(LocalLoadMonitor.CacheFor);
        Assert.False(await monitor.IsBusyAsync(0, default));
        Assert.True(await monitor.IsBusyAsync(4, default));
    }

    private LocalLoadMonitor Monitor() =>
        new(new LocalModelClient(Http, TimeSpan.FromSeconds(5)), ModelUrls.Metrics(new Uri(model.Address, "/v1").ToString()), "llama", time, NullLogger.Instance);

    private static string Metrics(int running, int waiting) =>
        $"vllm:num_requests_running{{model_name=\"llama\"}} {running}\nvllm:num_requests_waiting{{model_name=\"llama\"}} {waiting}\n";
}
