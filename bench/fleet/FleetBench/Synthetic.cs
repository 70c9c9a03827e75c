using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;

namespace FleetBench;

/// <summary>A seeded synthetic fleet: catalogs of the 7 provider types, pools, and claims in every phase.</summary>
internal static class Synthetic
{
    public static readonly string[] Providers = [.. ProviderTypes.All];

    private static readonly (string Model, int MemoryGiB, decimal PerGpuHour)[] Gpus =
    [
        ("B200", 180, 4.99m), ("H200", 141, 3.49m), ("H100", 80, 2.49m), ("GH200", 96, 1.49m), ("A100", 80, 1.29m),
        ("L40S", 48, 0.99m), ("A6000", 48, 0.80m), ("A10", 24, 0.75m), ("L4", 24, 0.45m), ("RTX4090", 24, 0.40m),
    ];

    private static readonly int[] Counts = [1, 2, 4, 8];

    /// <summary>
    /// <paramref name="count"/> offers spread over the providers, 12 regions each, GPU and CPU shapes, spot at about
    /// 0.7 × on-demand (Karpenter's KWOK rule), 10% without capacity.
    /// </summary>
    public static Offer[] Offers(int count, Random random)
    {
        var offers = new Offer[count];
        for (var i = 0; i < count; i++)
        {
            var provider = Providers[i % Providers.Length];
            var region = $"{provider}-region-{random.Next(12)}";
            var spot = random.Next(2) == 0;
            var capacity = spot ? CapacityTypes.Spot : CapacityTypes.OnDemand;
            if (random.Next(10) == 0)
            {
                var cpus = 2 << random.Next(6);
                var cpuPrice = decimal.Round(cpus * 0.01m * (0.8m + (decimal)random.NextDouble() * 0.4m), 4);
                offers[i] = new Offer(provider, provider, $"cpu-{cpus}-{i}", region, capacity, null, 0, 0, cpus, cpus * 4,
                    spot ? decimal.Round(cpuPrice * 0.7m, 4) : cpuPrice, cpuPrice, random.Next(10) != 0);
                continue;
            }
            var (model, memory, perGpu) = Gpus[random.Next(Gpus.Length)];
            var gpus = Counts[random.Next(Counts.Length)];
            var onDemand = decimal.Round(perGpu * gpus * (0.85m + (decimal)random.NextDouble() * 0.3m), 2);
            offers[i] = new Offer(provider, provider, $"{gpus}x{model}-{i}", region, capacity, model, gpus, memory,
                gpus * 16, gpus * 128, spot ? decimal.Round(onDemand * 0.7m, 2) : onDemand, onDemand, random.Next(10) != 0);
        }
        return offers;
    }

    /// <summary>Twenty pools of the shapes people run: 8×H100 training boxes, single-GPU inference, CPU workers.</summary>
    public static PoolPolicy[] Pools(int count)
    {
        var pools = new PoolPolicy[count];
        for (var i = 0; i < count; i++)
        {
            var (models, gpus) = (i % 5) switch
            {
                0 => (new[] { "H100", "H200" }, 8),
                1 => (new[] { "L40S", "A6000" }, 1),
                2 => (new[] { "A100" }, 4),
                3 => (Array.Empty<string>(), 1),
                _ => (Array.Empty<string>(), 0),
            };
            var spec = new GpuPoolSpec(
                [Providers[i % 7], Providers[(i + 2) % 7], Providers[(i + 4) % 7]],
                new PoolRequirements(models, gpus, MinVCpus: gpus == 0 ? 8 : 0),
                MaxPricePerHour: gpus == 0 ? 2m : 40m,
                Replicas: 100 + (i % 3) - 1,
                Limits: new PoolLimits(MaxGpus: 2000, MaxPricePerHour: 100_000m));
            pools[i] = PoolPolicy.From($"pool-{i}", spec);
        }
        return pools;
    }

    /// <summary>Claims spread evenly over the pools, in every active phase, some past their timeouts.</summary>
    public static NodeClaim[] Claims(int count, PoolPolicy[] pools, DateTimeOffset now, Random random)
    {
        string[] phases = [ClaimPhases.Pending, ClaimPhases.Launched, ClaimPhases.Registered, ClaimPhases.Initialized,
            ClaimPhases.Initialized, ClaimPhases.Initialized, ClaimPhases.Initialized, ClaimPhases.Initialized];
        var claims = new NodeClaim[count];
        for (var i = 0; i < count; i++)
        {
            var phase = phases[random.Next(phases.Length)];
            var created = now - TimeSpan.FromMinutes(random.Next(1, 600));
            var launched = phase == ClaimPhases.Pending ? (DateTimeOffset?)null : created.AddMinutes(random.Next(1, 5));
            var registered = phase is ClaimPhases.Registered or ClaimPhases.Initialized ? launched!.Value.AddMinutes(random.Next(2, 25)) : (DateTimeOffset?)null;
            claims[i] = new NodeClaim($"claim-{i}", pools[i % pools.Length].Name, phase, created, Provider: "lambda",
                GpuCount: 8, PricePerHour: 5m + random.Next(2000) / 100m, NodeName: $"node-{i}",
                LaunchedAt: launched, RegisteredAt: registered,
                InitializedAt: phase == ClaimPhases.Initialized ? registered!.Value.AddMinutes(3) : null);
        }
        return claims;
    }
}
