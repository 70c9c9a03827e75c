using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using static Atoll.Core.Tests.Fleet.FleetTestData;

namespace Atoll.Core.Tests.Fleet;

public sealed class PoolScalerTests
{
    private static PoolPolicy Pool(int replicas) => PoolPolicy.From("h100", new GpuPoolSpec(["a"], Replicas: replicas));

    [Fact]
    public void A_short_pool_creates_the_missing_claims_and_inactive_claims_do_not_count()
    {
        NodeClaim[] claims = [Claim("a", ClaimPhases.Initialized, T0), Claim("b", ClaimPhases.Terminating, T0), Claim("c", ClaimPhases.Terminated, T0)];
        var plan = PoolScaler.Plan(Pool(3), claims);
        Assert.Equal(2, plan.ToCreate);
        Assert.Empty(plan.ToRemove);
        Assert.Same(ScalePlan.None, PoolScaler.Plan(Pool(1), claims));
    }

    [Fact]
    public void Scale_down_removes_claims_not_yet_initialized_newest_first()
    {
        NodeClaim[] claims =
        [
            Claim("serving", ClaimPhases.Initialized, T0, price: 1m),
            Claim("old-pending", ClaimPhases.Pending, T0.AddMinutes(1)),
            Claim("booting", ClaimPhases.Launched, T0.AddMinutes(3)),
            Claim("joined", ClaimPhases.Registered, T0.AddMinutes(2)),
        ];
        var plan = PoolScaler.Plan(Pool(2), claims);
        Assert.Equal(0, plan.ToCreate);
        Assert.Equal(["booting", "joined"], plan.ToRemove.Select(c => c.Name));
    }

    [Fact]
    public void Then_idle_nodes_then_the_most_expensive_ties_newest_first()
    {
        NodeClaim[] claims =
        [
            Claim("cheap-idle", ClaimPhases.Initialized, T0, price: 1m, node: "n1"),
            Claim("dear-busy", ClaimPhases.Initialized, T0, price: 9m, node: "n2"),
            Claim("mid-busy-old", ClaimPhases.Initialized, T0, price: 5m, node: "n3"),
            Claim("mid-busy-new", ClaimPhases.Initialized, T0.AddHours(1), price: 5m, node: "n4"),
            Claim("cheap-busy", ClaimPhases.Initialized, T0, price: 1m, node: "n5"),
        ];
        var idle = new HashSet<string> { "n1" };
        Assert.Equal(["cheap-idle", "dear-busy", "mid-busy-new", "mid-busy-old"], PoolScaler.Plan(Pool(1), claims, idle).ToRemove.Select(c => c.Name));
        Assert.Equal(["dear-busy", "mid-busy-new"], PoolScaler.Plan(Pool(3), claims).ToRemove.Select(c => c.Name));
    }

    [Fact]
    public void Scale_to_zero_removes_everything()
    {
        NodeClaim[] claims = [Claim("a", ClaimPhases.Initialized, T0), Claim("b", ClaimPhases.Pending, T0)];
        Assert.Equal(["b", "a"], PoolScaler.Plan(Pool(0), claims).ToRemove.Select(c => c.Name));
    }
}
