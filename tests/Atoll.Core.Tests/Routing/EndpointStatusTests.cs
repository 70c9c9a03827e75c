using Atoll.Core.Contracts;
using Atoll.Core.Routing;
using Microsoft.Extensions.Time.Testing;

namespace Atoll.Core.Tests.Routing;

public sealed class EndpointStatusTests
{
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero));

    private DateTimeOffset Now => time.GetUtcNow();

    private RoutableEndpoint Healthy()
    {
        var endpoint = TestEndpoints.Create("n1", time, location: "fra", capacity: 4);
        endpoint.ReportProbe(healthy: true);
        return endpoint;
    }

    [Fact]
    public void A_healthy_endpoint_is_up_with_its_load_queue_and_rtt()
    {
        var endpoint = Healthy();
        TestEndpoints.Load(endpoint, 3);
        endpoint.ReportQueue(2, 5, Now);
        endpoint.ReportRtt(TimeSpan.FromMilliseconds(12.346));

        var view = EndpointStatus.Of(endpoint, Now);

        Assert.Equal(EndpointStates.Up, view.State);
        Assert.Null(view.Reason);
        Assert.Equal((3, 4), (view.InFlight, view.Capacity));
        Assert.Equal(new EndpointQueueView(2, 5, Now), view.Queue);
        Assert.Equal(12.35, view.RttMs);
        Assert.Equal(("n1", "llama", "fra", "http://n1:8000/"), (view.Node, view.Model, view.Location, view.Url));
    }

    [Fact]
    public void An_endpoint_never_probed_is_starting_and_one_whose_probe_fails_is_unhealthy_with_the_problem()
    {
        var endpoint = TestEndpoints.Create("n1", time);
        endpoint.ServerHealthy = false; // as the gateway creates it: no probe yet
        Assert.Equal(EndpointStates.Starting, EndpointStatus.Of(endpoint, Now).State);

        endpoint.ReportProbe(healthy: false, "GET /health answered 503");
        var view = EndpointStatus.Of(endpoint, Now);
        Assert.Equal((EndpointStates.Unhealthy, "GET /health answered 503"), (view.State, view.Reason));

        endpoint.ReportProbe(healthy: true);
        Assert.Equal(EndpointStates.Up, EndpointStatus.Of(endpoint, Now).State);
        Assert.Null(endpoint.ProbeProblem);
    }

    [Fact]
    public void A_node_that_is_not_ready_outranks_every_other_reason()
    {
        var endpoint = TestEndpoints.Create("n1", time);
        endpoint.ReportProbe(healthy: false, "GET /health failed: Connection refused");
        endpoint.NodeReady = false;

        var view = EndpointStatus.Of(endpoint, Now);

        Assert.Equal(EndpointStates.NodeNotReady, view.State);
        Assert.Contains("atoll nodes describe n1", view.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_ejected_endpoint_says_when_it_comes_back_and_is_up_again_after_the_cooldown()
    {
        var endpoint = Healthy(); // default ejection: 3 failures, 5 s base cooldown
        for (var i = 0; i < 3; i++)
            endpoint.Health.RecordFailure();
        time.Advance(TimeSpan.FromSeconds(2));

        var view = EndpointStatus.Of(endpoint, Now);

        Assert.Equal(EndpointStates.Ejected, view.State);
        Assert.Contains("back in 3s", view.Reason, StringComparison.Ordinal);
        Assert.Equal((1L, Now + TimeSpan.FromSeconds(3)), (view.Ejections, view.EjectedUntil));

        time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(EndpointStates.Up, EndpointStatus.Of(endpoint, Now).State);
    }
}
