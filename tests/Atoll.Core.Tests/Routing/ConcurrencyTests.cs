using Atoll.Core.Routing;
using Microsoft.Extensions.Time.Testing;

namespace Atoll.Core.Tests.Routing;

public sealed class ConcurrencyTests
{
    [Fact]
    public void Concurrent_picks_and_leases_leave_every_in_flight_count_at_zero()
    {
        var time = new FakeTimeProvider();
        var index = new PrefixIndex(blocksPerEndpoint: 50);
        var picker = EndpointPicker.CreateDefault(new PickerOptions(), index, time, new Random(3));
        var endpoints = Enumerable.Range(0, 4).Select(i => TestEndpoints.Create($"e{i}", time, capacity: 1000)).ToArray();
        var budget = new RetryBudget(new RetryBudgetOptions(), time);
        var picked = 0;

        Parallel.For(0, 20_000, i =>
        {
            budget.RecordRequest();
            var result = picker.Pick(RoutingRequest.ForPrompt("llama", new string((char)('a' + (i % 20)), 200)), endpoints);
            if (!result.IsPicked)
                return;
            Interlocked.Increment(ref picked);
            using var lease = result.Endpoint.BeginRequest();
            result.Endpoint.ReportRtt(TimeSpan.FromMilliseconds(i % 7));
            if (i % 3 == 0)
                result.Endpoint.Health.RecordSuccess();
        });

        Assert.Equal(20_000, picked);
        Assert.All(endpoints, e => Assert.Equal(0, e.InFlight));
        Assert.Equal(20_000, budget.RequestsInWindow);
        Assert.All(endpoints, e => Assert.InRange(index.Count(e.Id), 0, 50));
    }
}
