using Atoll.Core.Routing;
using Microsoft.Extensions.Time.Testing;

namespace Atoll.Core.Tests.Routing;

public sealed class PassiveHealthTests
{
    private readonly FakeTimeProvider time = new();
    private readonly PassiveHealth health;

    public PassiveHealthTests() =>
        health = new PassiveHealth(new EjectionOptions { ConsecutiveFailures = 3, BaseCooldown = TimeSpan.FromSeconds(5), MaxCooldown = TimeSpan.FromSeconds(30) }, time);

    private DateTimeOffset Now => time.GetUtcNow();

    private void Fail(int times)
    {
        for (var i = 0; i < times; i++)
            health.RecordFailure();
    }

    [Fact]
    public void Ejects_after_three_consecutive_failures_for_the_base_cooldown()
    {
        Assert.False(health.RecordFailure());
        Assert.False(health.RecordFailure());
        Assert.False(health.IsEjected(Now));
        Assert.True(health.RecordFailure());

        Assert.True(health.IsEjected(Now));
        Assert.Equal(EjectionState.Ejected, health.GetState(Now));
        Assert.Equal(Now + TimeSpan.FromSeconds(5), health.EjectedUntil);
        Assert.Equal(1, health.EjectionCount);
        time.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromTicks(1));
        Assert.True(health.IsEjected(Now));
        time.Advance(TimeSpan.FromTicks(1));
        Assert.False(health.IsEjected(Now));
        Assert.Equal(EjectionState.HalfOpen, health.GetState(Now));
    }

    [Fact]
    public void Success_resets_the_failure_streak()
    {
        Fail(2);
        health.RecordSuccess();
        Fail(2);
        Assert.False(health.IsEjected(Now));
        Assert.Equal(2, health.ConsecutiveFailures);
        Fail(1);
        Assert.True(health.IsEjected(Now));
    }

    [Fact]
    public void Half_open_failure_re_ejects_at_once_with_doubling_cooldown_up_to_the_cap()
    {
        Fail(3);
        var expected = new[] { 10, 20, 30, 30 };
        foreach (var seconds in expected)
        {
            time.Advance(health.EjectedUntil!.Value - Now);
            Assert.False(health.IsEjected(Now));
            Assert.True(health.RecordFailure());
            Assert.Equal(Now + TimeSpan.FromSeconds(seconds), health.EjectedUntil);
        }
        Assert.Equal(5, health.EjectionCount);
        Assert.Equal(5, health.ConsecutiveEjections);
    }

    [Fact]
    public void Failures_of_requests_finishing_during_the_cooldown_do_not_extend_it()
    {
        Fail(3);
        var until = health.EjectedUntil;
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(health.RecordFailure());
        Assert.Equal(until, health.EjectedUntil);
        Assert.Equal(1, health.EjectionCount);
    }

    [Fact]
    public void Half_open_success_makes_it_healthy_and_resets_the_backoff()
    {
        Fail(3);
        time.Advance(TimeSpan.FromSeconds(5));
        health.RecordSuccess();
        Assert.Equal(EjectionState.Healthy, health.GetState(Now));
        Assert.Null(health.EjectedUntil);

        Fail(2);
        Assert.False(health.IsEjected(Now));
        Fail(1);
        Assert.Equal(Now + TimeSpan.FromSeconds(5), health.EjectedUntil);
    }

    [Fact]
    public void Probe_success_ends_the_ejection_and_resets_the_backoff()
    {
        Fail(3);
        time.Advance(TimeSpan.FromSeconds(5));
        Fail(1);
        Assert.Equal(2, health.ConsecutiveEjections);

        health.MarkHealthyByProbe();
        Assert.False(health.IsEjected(Now));
        Assert.Equal(EjectionState.Healthy, health.GetState(Now));
        Fail(2);
        Assert.False(health.IsEjected(Now));
        Fail(1);
        Assert.Equal(Now + TimeSpan.FromSeconds(5), health.EjectedUntil);
        Assert.Equal(3, health.EjectionCount);
    }

    [Fact]
    public void Endpoint_probe_ends_ejection_only_when_the_server_comes_back_from_failing()
    {
        var endpoint = TestEndpoints.Create("a", time);
        endpoint.ReportProbe(healthy: true);
        for (var i = 0; i < 3; i++)
            endpoint.Health.RecordFailure();

        endpoint.ReportProbe(healthy: true);
        Assert.True(endpoint.Health.IsEjected(Now));

        endpoint.ReportProbe(healthy: false);
        Assert.False(endpoint.ServerHealthy);
        endpoint.ReportProbe(healthy: true);
        Assert.True(endpoint.ServerHealthy);
        Assert.False(endpoint.Health.IsEjected(Now));
    }

    [Fact]
    public void Invalid_options_are_rejected_naming_the_key()
    {
        var error = Assert.Throws<ArgumentException>(() => new PassiveHealth(new EjectionOptions { ConsecutiveFailures = 0 }, time));
        Assert.Contains(nameof(EjectionOptions.ConsecutiveFailures), error.Message);
    }
}
