using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;

namespace Atoll.Core.Tests.Fleet;

public sealed class PoolPolicyTests
{
    [Fact]
    public void Defaults_are_spot_first_and_the_documented_timeouts()
    {
        var pool = PoolPolicy.From("p", new GpuPoolSpec(["lambda"]));
        Assert.Equal([CapacityTypes.Spot, CapacityTypes.OnDemand], pool.CapacityTypes);
        Assert.Equal(TimeSpan.FromMinutes(10), pool.LaunchTimeout);
        Assert.Equal(TimeSpan.FromMinutes(20), pool.RegistrationTimeout);
        Assert.Equal(TimeSpan.FromMinutes(30), pool.InitializationTimeout);
        Assert.Equal(0, pool.Desired);
        Assert.Equal(1, pool.GpusPerNode);
        Assert.Empty(pool.GpuModels);
        Assert.Empty(pool.Regions);
        Assert.Null(pool.MaxGpus);
    }

    [Theory]
    [InlineData(null, null, null, 0)]
    [InlineData(3, null, null, 3)]
    [InlineData(null, 2, null, 2)]
    [InlineData(5, 1, 3, 3)]
    [InlineData(0, 2, 4, 2)]
    [InlineData(null, null, 0, 0)]
    public void Desired_is_replicas_or_min_clamped_to_min_and_max(int? replicas, int? min, int? max, int desired) =>
        Assert.Equal(desired, PoolPolicy.From("p", new GpuPoolSpec(["a"], Replicas: replicas, Min: min, Max: max)).Desired);

    [Fact]
    public void Timeouts_models_and_limits_come_from_the_spec()
    {
        var pool = PoolPolicy.From("p", new GpuPoolSpec(["a"], new PoolRequirements(["h100", "l40s"], 8, 80, 32, 256),
            CapacityTypes: [CapacityTypes.OnDemand], MaxPricePerHour: 30m, Limits: new PoolLimits(64, 200m),
            Timeouts: new PoolTimeouts("5m", "1h", "45m")));
        Assert.Equal(["H100", "L40S"], pool.GpuModels);
        Assert.Equal([CapacityTypes.OnDemand], pool.CapacityTypes);
        Assert.Equal((8, 80, 32, 256), (pool.GpusPerNode, pool.MinGpuMemoryGiB, pool.MinVCpus, pool.MinMemoryGiB));
        Assert.Equal((64, 200m, 30m), (pool.MaxGpus!.Value, pool.MaxPoolPricePerHour!.Value, pool.MaxPricePerHour!.Value));
        Assert.Equal((TimeSpan.FromMinutes(5), TimeSpan.FromHours(1), TimeSpan.FromMinutes(45)),
            (pool.LaunchTimeout, pool.RegistrationTimeout, pool.InitializationTimeout));
        Assert.Equal(0, pool.CapacityRank(CapacityTypes.OnDemand));
        Assert.Equal(-1, pool.CapacityRank(CapacityTypes.Spot));
    }

    [Fact]
    public void A_timeout_that_is_not_a_duration_is_refused_with_its_name()
    {
        var e = Assert.Throws<FormatException>(() => PoolPolicy.From("p", new GpuPoolSpec(["a"], Timeouts: new PoolTimeouts(Registration: "soon"))));
        Assert.Contains("registration timeout 'soon'", e.Message);
    }
}
