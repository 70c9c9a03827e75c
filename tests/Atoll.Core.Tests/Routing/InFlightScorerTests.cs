using Atoll.Core.Routing;
using Microsoft.Extensions.Time.Testing;

namespace Atoll.Core.Tests.Routing;

public sealed class InFlightScorerTests
{
    private readonly FakeTimeProvider time = new();
    private readonly RoutingRequest request = new("llama");

    private double Score(RoutableEndpoint endpoint) =>
        new InFlightScorer().Score(request, endpoint, new ScoringContext(time.GetUtcNow(), [endpoint]));

    [Fact]
    public void Idle_endpoint_scores_one_and_half_full_scores_half()
    {
        var endpoint = TestEndpoints.Create("a", time, capacity: 8);
        Assert.Equal(1, Score(endpoint));
        TestEndpoints.Load(endpoint, 4);
        Assert.Equal(0.5, Score(endpoint), 9);
    }

    [Fact]
    public void Full_or_overfull_endpoint_scores_zero()
    {
        var endpoint = TestEndpoints.Create("a", time, capacity: 2);
        TestEndpoints.Load(endpoint, 2);
        Assert.Equal(0, Score(endpoint));
        TestEndpoints.Load(endpoint, 3);
        Assert.Equal(0, Score(endpoint));
    }

    [Fact]
    public void Finished_requests_free_capacity_again()
    {
        var endpoint = TestEndpoints.Create("a", time, capacity: 4);
        var lease = endpoint.BeginRequest();
        Assert.Equal(0.75, Score(endpoint), 9);
        lease.Dispose();
        lease.Dispose();
        Assert.Equal(0, endpoint.InFlight);
        Assert.Equal(1, Score(endpoint));
    }
}
