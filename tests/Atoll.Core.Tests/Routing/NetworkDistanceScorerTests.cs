using Atoll.Core.Routing;
using Microsoft.Extensions.Time.Testing;

namespace Atoll.Core.Tests.Routing;

public sealed class NetworkDistanceScorerTests
{
    private readonly FakeTimeProvider time = new();
    private readonly NetworkDistanceScorer scorer = new(TimeSpan.FromMilliseconds(10));

    private double Score(RoutingRequest request, RoutableEndpoint endpoint) =>
        scorer.Score(request, endpoint, new ScoringContext(time.GetUtcNow(), [endpoint]));

    [Fact]
    public void Same_location_scores_one_whatever_the_rtt()
    {
        var endpoint = TestEndpoints.Create("a", time, location: "fra-1");
        endpoint.ReportRtt(TimeSpan.FromMilliseconds(40));
        Assert.Equal(1, Score(new RoutingRequest("llama") { ClientLocation = "FRA-1" }, endpoint));
    }

    [Fact]
    public void Other_location_scores_by_rtt()
    {
        var request = new RoutingRequest("llama") { ClientLocation = "fra-1" };
        var near = TestEndpoints.Create("near", time, location: "ams-1");
        near.ReportRtt(TimeSpan.FromMilliseconds(10));
        var far = TestEndpoints.Create("far", time, location: "us-east");
        far.ReportRtt(TimeSpan.FromMilliseconds(90));
        var zero = TestEndpoints.Create("zero", time, location: "ams-2");
        zero.ReportRtt(TimeSpan.Zero);

        Assert.Equal(0.5, Score(request, near), 9);
        Assert.Equal(0.1, Score(request, far), 9);
        Assert.Equal(1, Score(request, zero), 9);
    }

    [Fact]
    public void Unknown_location_and_rtt_is_neutral()
    {
        Assert.Equal(NetworkDistanceScorer.Unknown, Score(new RoutingRequest("llama"), TestEndpoints.Create("a", time)));
        Assert.Equal(NetworkDistanceScorer.Unknown, Score(new RoutingRequest("llama") { ClientLocation = "x" }, TestEndpoints.Create("a", time, location: "y")));
    }

    [Fact]
    public void Rtt_is_a_moving_average_of_samples()
    {
        var endpoint = TestEndpoints.Create("a", time);
        Assert.Null(endpoint.Rtt);
        endpoint.ReportRtt(TimeSpan.FromMilliseconds(100));
        Assert.Equal(100, endpoint.Rtt!.Value.TotalMilliseconds, 6);
        endpoint.ReportRtt(TimeSpan.FromMilliseconds(0));
        Assert.Equal(70, endpoint.Rtt!.Value.TotalMilliseconds, 6);
    }
}
