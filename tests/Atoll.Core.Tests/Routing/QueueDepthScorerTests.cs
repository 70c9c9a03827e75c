using Atoll.Core.Routing;
using Microsoft.Extensions.Time.Testing;

namespace Atoll.Core.Tests.Routing;

public sealed class QueueDepthScorerTests
{
    private readonly FakeTimeProvider time = new();
    private readonly QueueDepthScorer scorer = new(TimeSpan.FromSeconds(5));
    private readonly RoutingRequest request = new("llama");

    private double Score(RoutableEndpoint endpoint) =>
        scorer.Score(request, endpoint, new ScoringContext(time.GetUtcNow(), [endpoint]));

    [Fact]
    public void Fresh_empty_queue_scores_one_and_longer_queues_less()
    {
        var endpoint = TestEndpoints.Create("a", time);
        endpoint.ReportQueue(waiting: 0, running: 3, time.GetUtcNow());
        Assert.Equal(1, Score(endpoint));
        endpoint.ReportQueue(waiting: 1, running: 3, time.GetUtcNow());
        Assert.Equal(0.5, Score(endpoint), 9);
        endpoint.ReportQueue(waiting: 9, running: 3, time.GetUtcNow());
        Assert.Equal(0.1, Score(endpoint), 9);
    }

    [Fact]
    public void No_sample_is_neutral()
    {
        Assert.Equal(QueueDepthScorer.Neutral, Score(TestEndpoints.Create("a", time)));
    }

    [Fact]
    public void Sample_older_than_the_staleness_window_is_neutral()
    {
        var endpoint = TestEndpoints.Create("a", time);
        endpoint.ReportQueue(waiting: 20, running: 3, time.GetUtcNow());
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1.0 / 21, Score(endpoint), 9);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(QueueDepthScorer.Neutral, Score(endpoint));
    }
}
