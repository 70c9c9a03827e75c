using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;

namespace Atoll.Core.Tests.Fleet;

/// <summary>Offers, pools and claims for the fleet tests, with defaults that fit the default pool (1×H100 on lambda or verda).</summary>
internal static class FleetTestData
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    public static Offer Offer(
        string provider = "lambda", string instanceType = "gpu_1x_h100", string region = "us-east-1",
        string capacity = CapacityTypes.OnDemand, string? model = "H100", int gpus = 1, decimal price = 2.49m,
        bool available = true, int memory = 80, int vcpus = 26, int ram = 200) =>
        new(provider, provider, instanceType, region, capacity, model, gpus, memory, vcpus, ram, price, price, available);

    public static GpuPoolSpec PoolSpec(
        string[]? providers = null, string[]? models = null, int gpus = 1, decimal? maxPrice = null,
        string[]? capacityTypes = null, string[]? regions = null, PoolLimits? limits = null, int? replicas = 1) =>
        new(providers ?? ["lambda", "verda"], new PoolRequirements(models ?? ["H100"], gpus), regions, capacityTypes,
            maxPrice, replicas, Limits: limits);

    public static PoolPolicy Pool(
        string[]? providers = null, string[]? models = null, int gpus = 1, decimal? maxPrice = null,
        string[]? capacityTypes = null, string[]? regions = null, PoolLimits? limits = null, int? replicas = 1) =>
        PoolPolicy.From("h100", PoolSpec(providers, models, gpus, maxPrice, capacityTypes, regions, limits, replicas));

    public static NodeClaim Claim(string name, string phase, DateTimeOffset created, decimal? price = 2m, string? node = null) =>
        new(name, "h100", phase, created, PricePerHour: price, NodeName: node, GpuCount: 1,
            LaunchedAt: phase == ClaimPhases.Pending ? null : created.AddMinutes(1),
            RegisteredAt: phase is ClaimPhases.Registered or ClaimPhases.Initialized ? created.AddMinutes(5) : null,
            InitializedAt: phase == ClaimPhases.Initialized ? created.AddMinutes(8) : null);
}
