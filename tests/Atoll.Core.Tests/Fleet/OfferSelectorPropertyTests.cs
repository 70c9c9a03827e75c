using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using CsCheck;
using Microsoft.Extensions.Time.Testing;
using static Atoll.Core.Tests.Fleet.FleetTestData;

namespace Atoll.Core.Tests.Fleet;

/// <summary>
/// Random catalogs and pools against a brute-force oracle written separately from the selector: filter with LINQ,
/// sort everything, take the first.
/// </summary>
public sealed class OfferSelectorPropertyTests
{
    private static readonly string[] Providers = ["lambda", "verda", "tensordock", "hetzner"];
    private static readonly string[] Regions = ["r1", "r2", "r3"];
    private static readonly string[] Models = ["H100", "A100", "L40S"];
    private static readonly string[][] CapacityOrders =
        [[CapacityTypes.Spot, CapacityTypes.OnDemand], [CapacityTypes.OnDemand, CapacityTypes.Spot], [CapacityTypes.Spot], [CapacityTypes.OnDemand]];

    private static readonly Gen<Offer> GenOffer = Gen.Select(
        Gen.OneOf(Providers), Gen.OneOf(Regions), Gen.OneOf(CapacityTypes.Spot, CapacityTypes.OnDemand),
        Gen.OneOf<string?>("H100", "A100", "L40S", "h100", null), Gen.OneOf(0, 1, 2, 8), Gen.OneOf(0, 40, 48, 80),
        Gen.Int[0, 64], Gen.Int[0, 512], Gen.Int[10, 4000], Gen.Frequency((9, true), (1, false)),
        (p, r, c, m, g, mem, cpu, ram, cents, available) => new Offer(p, p, "t", r, c, m, g, mem, cpu, ram, cents / 100m, null, available));

    private static readonly Gen<Offer[]> GenOffers = GenOffer.Array[0, 60]
        .Select(offers => offers.Select((o, i) => o with { InstanceType = $"t{i}" }).ToArray());

    private static readonly Gen<PoolPolicy> GenPool = Gen.Select(
        Gen.Int[1, 15], Gen.Int[0, 7], Gen.OneOf(0, 1, 2, 8), Gen.Int[0, 40], Gen.OneOf(CapacityOrders), Gen.Int[0, 7],
        Gen.Int[0, 24], Gen.Int[0, 120], Gen.Int[0, 80], Gen.Int[0, 32],
        (providers, models, gpus, maxPrice, capacity, regions, maxGpus, maxSpend, minMemory, minCpu) => PoolPolicy.From("p", new GpuPoolSpec(
            Subset(Providers, providers), new PoolRequirements(gpus == 0 ? [] : Subset(Models, models), gpus, minMemory, minCpu, 0),
            Subset(Regions, regions), capacity, maxPrice == 0 ? null : maxPrice, 1,
            Limits: new PoolLimits(maxGpus == 0 ? null : maxGpus, maxSpend == 0 ? null : maxSpend))));

    private static readonly Gen<PoolUsage> GenUsage = Gen.Select(Gen.Int[0, 16], Gen.Int[0, 80], (g, p) => new PoolUsage(g, p));

    private static readonly Gen<bool[]> GenFlags = Gen.Frequency((1, true), (4, false)).Array[60];

    [Fact]
    public void The_chosen_offer_satisfies_the_pool_and_is_the_oracles_choice()
    {
        Gen.Select(GenOffers, GenPool, GenUsage, GenFlags, GenFlags, Gen.Int[-1, 3]).Sample((offers, pool, usage, marks, excludes, providerMark) =>
        {
            var time = new FakeTimeProvider(T0);
            var cache = new UnavailableOffers(time);
            var marked = Mark(cache, offers, marks, providerMark);
            var excluded = offers.Where((o, i) => excludes[i]).Select(o => o.Key).ToHashSet();
            time.Advance(TimeSpan.FromMinutes(1));

            var result = OfferSelector.Select(pool, offers, usage, cache, excluded);

            var expected = Oracle(pool, offers, usage, o => !marked(o) && !excluded.Contains(o.Key));
            Assert.Equal(expected?.Key, result.Chosen?.Key);
            if (result.Chosen is { } chosen)
            {
                Assert.True(Feasible(pool, chosen, usage) && !marked(chosen) && !excluded.Contains(chosen.Key));
                Assert.StartsWith("chose " + chosen.Key, result.Summary);
            }
            else
            {
                Assert.StartsWith("no offer fits pool p: ", result.Summary);
            }
            Assert.Equal(offers.Count(o => Matches(pool, o)), result.Matching);
            Assert.All(result.Considered, c => Assert.True(Matches(pool, c.Offer)));
            Assert.True(result.Considered.Count <= OfferSelector.MaxConsidered);
        }, iter: 400);
    }

    [Fact]
    public void The_result_does_not_depend_on_the_order_of_the_catalog()
    {
        Gen.Select(GenOffers, GenPool, GenUsage, GenFlags, Gen.Int[0, int.MaxValue]).Sample((offers, pool, usage, marks, seed) =>
        {
            var cache = new UnavailableOffers(new FakeTimeProvider(T0));
            Mark(cache, offers, marks, -1);
            var shuffled = offers.ToArray();
            new Random(seed).Shuffle(shuffled);

            var a = OfferSelector.Select(pool, offers, usage, cache);
            var b = OfferSelector.Select(pool, shuffled, usage, cache);
            Assert.Equal(a.Chosen?.Key, b.Chosen?.Key);
            Assert.Equal(a.Summary, b.Summary);
            Assert.Equal(a.Considered.Select(c => (c.Offer.Key, c.Reason, c.Message)), b.Considered.Select(c => (c.Offer.Key, c.Reason, c.Message)));
        }, iter: 300);
    }

    [Fact]
    public void Marked_offers_are_never_chosen_until_the_ttl_passes()
    {
        Gen.Select(GenOffers, GenPool, GenFlags, Gen.Int[-1, 3]).Sample((offers, pool, marks, providerMark) =>
        {
            var time = new FakeTimeProvider(T0);
            var cache = new UnavailableOffers(time, TimeSpan.FromMinutes(3));
            var marked = Mark(cache, offers, marks, providerMark);
            foreach (var at in (int[])[0, 60, 179])
            {
                time.SetUtcNow(T0.AddSeconds(at));
                var chosen = OfferSelector.Select(pool, offers, PoolUsage.None, cache).Chosen;
                Assert.True(chosen is null || !marked(chosen), $"chose marked {chosen?.Key} at +{at}s");
                Assert.Equal(Oracle(pool, offers, PoolUsage.None, o => !marked(o))?.Key, chosen?.Key);
            }
            time.SetUtcNow(T0.AddMinutes(3));
            Assert.Equal(Oracle(pool, offers, PoolUsage.None, _ => true)?.Key, OfferSelector.Select(pool, offers, PoolUsage.None, cache).Chosen?.Key);
        }, iter: 200);
    }

    // ---- the oracle: the rules of OfferSelector's remarks, written plainly ----

    private static Offer? Oracle(PoolPolicy pool, Offer[] offers, PoolUsage usage, Func<Offer, bool> allowed) =>
        offers.Where(o => Feasible(pool, o, usage) && allowed(o))
            .OrderBy(o => pool.CapacityTypes.ToList().IndexOf(o.CapacityType))
            .ThenBy(o => o.PricePerHour)
            .ThenBy(o => o.Provider, StringComparer.Ordinal)
            .ThenBy(o => o.InstanceType, StringComparer.Ordinal)
            .ThenBy(o => o.Region, StringComparer.Ordinal)
            .FirstOrDefault();

    private static bool Matches(PoolPolicy pool, Offer o)
    {
        var memory = o.GpuMemoryGiB > 0 ? o.GpuMemoryGiB : GpuModels.MemoryGiB(o.GpuModel);
        var gpuOk = pool.GpusPerNode == 0
            ? o.GpuCount == 0
            : o.GpuModel is not null && o.GpuCount == pool.GpusPerNode
                && (pool.GpuModels.Count == 0 || pool.GpuModels.Contains(o.GpuModel, StringComparer.OrdinalIgnoreCase));
        return pool.Providers.Contains(o.Provider) && pool.CapacityTypes.Contains(o.CapacityType)
            && (pool.Regions.Count == 0 || pool.Regions.Contains(o.Region)) && gpuOk
            && (pool.MinGpuMemoryGiB == 0 || memory >= pool.MinGpuMemoryGiB)
            && o.VCpus >= pool.MinVCpus && o.MemoryGiB >= pool.MinMemoryGiB;
    }

    private static bool Feasible(PoolPolicy pool, Offer o, PoolUsage usage) =>
        Matches(pool, o) && o.Available
        && (pool.MaxPricePerHour is null || o.PricePerHour <= pool.MaxPricePerHour)
        && (pool.MaxGpus is null || usage.Gpus + o.GpuCount <= pool.MaxGpus)
        && (pool.MaxPoolPricePerHour is null || usage.PricePerHour + o.PricePerHour <= pool.MaxPoolPricePerHour);

    private static Func<Offer, bool> Mark(UnavailableOffers cache, Offer[] offers, bool[] flags, int providerMark)
    {
        var keys = new HashSet<string>();
        for (var i = 0; i < offers.Length; i++)
        {
            if (flags[i])
            {
                cache.Mark(offers[i].Key, ProviderErrorReason.InsufficientCapacity, "test");
                keys.Add(offers[i].Key);
            }
        }
        var provider = providerMark >= 0 ? Providers[providerMark] : null;
        if (provider is not null)
        {
            cache.MarkProvider(provider, providerMark % 2 == 0 ? null : CapacityTypes.Spot, ProviderErrorReason.QuotaExceeded, "quota");
        }
        return o => keys.Contains(o.Key)
            || (o.Provider == provider && (providerMark % 2 == 0 || o.CapacityType == CapacityTypes.Spot));
    }

    private static string[] Subset(string[] values, int mask) => values.Where((_, i) => (mask & (1 << i)) != 0).ToArray();
}
