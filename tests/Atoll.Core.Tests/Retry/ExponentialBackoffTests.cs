using Atoll.Core.Retry;

namespace Atoll.Core.Tests.Retry;

public sealed class ExponentialBackoffTests
{
    [Fact]
    public void Delays_double_up_to_the_cap_within_jitter_and_reset()
    {
        var backoff = new ExponentialBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(8), new Random(42));
        double[] expected = [1, 2, 4, 8, 8, 8];
        foreach (var e in expected)
        {
            var d = backoff.NextDelay().TotalSeconds;
            Assert.InRange(d, e * 0.8, e * 1.2);
        }
        Assert.Equal(6, backoff.Failures);
        backoff.Reset();
        Assert.Equal(0, backoff.Failures);
        Assert.InRange(backoff.NextDelay().TotalSeconds, 0.8, 1.2);
    }

    [Fact]
    public void Jitter_spreads_delays()
    {
        var random = new Random(1);
        var delays = Enumerable.Range(0, 50).Select(_ => ExponentialBackoff.Jitter(TimeSpan.FromSeconds(10), 0.1, random)).ToList();
        Assert.All(delays, d => Assert.InRange(d.TotalSeconds, 9, 11));
        Assert.True(delays.Distinct().Count() > 40);
    }
}
