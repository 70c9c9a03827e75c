using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using static Atoll.Core.Tests.Fleet.FleetTestData;

namespace Atoll.Core.Tests.Fleet;

public sealed class ClaimTimeoutsTests
{
    private static readonly PoolPolicy Pool = PoolPolicy.From("p", new GpuPoolSpec(["a"]));

    [Fact]
    public void A_pending_claim_expires_at_the_launch_timeout_counted_from_creation()
    {
        var claim = Claim("c", ClaimPhases.Pending, T0);
        Assert.Null(ClaimTimeouts.Expired(claim, Pool, T0.AddMinutes(10).AddSeconds(-1)));
        Assert.Equal("launch timeout: no instance was launched within 10m of the claim's creation (created 10m ago)",
            ClaimTimeouts.Expired(claim, Pool, T0.AddMinutes(10)));
    }

    [Fact]
    public void A_launched_claim_expires_at_the_registration_timeout_counted_from_launch()
    {
        var claim = Claim("c", ClaimPhases.Launched, T0); // launched at T0+1m
        Assert.Null(ClaimTimeouts.Expired(claim, Pool, T0.AddMinutes(20)));
        Assert.Equal("registration timeout: no agent joined within 20m of launch (launched 20m30s ago)",
            ClaimTimeouts.Expired(claim, Pool, T0.AddMinutes(21).AddSeconds(30)));
    }

    [Fact]
    public void A_registered_claim_expires_at_the_initialization_timeout_counted_from_registration()
    {
        var claim = Claim("c", ClaimPhases.Registered, T0); // registered at T0+5m
        Assert.Null(ClaimTimeouts.Expired(claim, Pool, T0.AddMinutes(34)));
        var message = ClaimTimeouts.Expired(claim, Pool, T0.AddMinutes(35));
        Assert.StartsWith("initialization timeout:", message);
        Assert.Contains("within 30m of registering", message);
    }

    [Fact]
    public void Pool_timeouts_override_the_defaults_and_serving_claims_never_expire()
    {
        var pool = PoolPolicy.From("p", new GpuPoolSpec(["a"], Timeouts: new PoolTimeouts(Registration: "45m")));
        var launched = Claim("c", ClaimPhases.Launched, T0);
        Assert.Null(ClaimTimeouts.Expired(launched, pool, T0.AddMinutes(40)));
        Assert.Contains("within 45m of launch", ClaimTimeouts.Expired(launched, pool, T0.AddMinutes(46)));
        Assert.Null(ClaimTimeouts.Expired(Claim("c", ClaimPhases.Initialized, T0), Pool, T0.AddDays(30)));
        Assert.Null(ClaimTimeouts.Expired(Claim("c", ClaimPhases.Terminating, T0), Pool, T0.AddDays(30)));
    }
}
