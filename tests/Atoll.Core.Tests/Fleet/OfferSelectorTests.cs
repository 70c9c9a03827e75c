using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Microsoft.Extensions.Time.Testing;
using static Atoll.Core.Tests.Fleet.FleetTestData;

namespace Atoll.Core.Tests.Fleet;

public sealed class OfferSelectorTests
{
    private readonly FakeTimeProvider _time = new(T0);

    private OfferSelection Select(PoolPolicy pool, IReadOnlyList<Offer> offers, PoolUsage? usage = null, UnavailableOffers? cache = null, IReadOnlySet<string>? excluded = null) =>
        OfferSelector.Select(pool, offers, usage ?? PoolUsage.None, cache ?? new UnavailableOffers(_time), excluded);

    [Fact]
    public void The_cheapest_spot_offer_wins_over_a_cheaper_on_demand_one()
    {
        Offer[] offers =
        [
            Offer(capacity: CapacityTypes.OnDemand, price: 1.00m),
            Offer(provider: "verda", capacity: CapacityTypes.Spot, price: 1.80m),
            Offer(provider: "lambda", capacity: CapacityTypes.Spot, price: 1.50m, region: "us-west-1"),
        ];
        var result = Select(Pool(), offers);
        Assert.Equal("lambda:gpu_1x_h100:us-west-1:spot", result.Chosen!.Key);
        Assert.Equal(3, result.Matching);
        Assert.StartsWith("chose lambda:gpu_1x_h100:us-west-1:spot at $1.50/h; 3 of 3 offers match the requirements", result.Summary);
    }

    [Fact]
    public void On_demand_is_taken_when_every_spot_offer_failed_recently()
    {
        var cache = new UnavailableOffers(_time);
        var spot = Offer(capacity: CapacityTypes.Spot, price: 1.5m);
        cache.Mark(spot, ProviderErrorReason.InsufficientCapacity, "no spot capacity");
        _time.Advance(TimeSpan.FromSeconds(40));
        var result = Select(Pool(), [spot, Offer(price: 2.49m)], cache: cache);
        Assert.Equal(CapacityTypes.OnDemand, result.Chosen!.CapacityType);
        var passed = Assert.Single(result.Considered);
        Assert.Equal((spot, OfferRejectionReason.RecentlyUnavailable), (passed.Offer, passed.Reason));
        Assert.StartsWith("InsufficientCapacity 40s ago: no spot capacity; retried after 2m20s", passed.Message);
        Assert.Contains("passed over: 1 recently unavailable (lambda:gpu_1x_h100:us-east-1:spot InsufficientCapacity 40s ago)", result.Summary);
    }

    [Fact]
    public void The_gpu_count_must_equal_gpus_per_node_and_cpu_pools_take_only_cpu_offers()
    {
        Offer[] offers = [Offer(gpus: 8, price: 1m), Offer(gpus: 2, price: 1.5m), Offer(model: null, gpus: 0, price: 0.1m), Offer(gpus: 1, price: 3m)];
        Assert.Equal(1, Select(Pool(), offers).Chosen!.GpuCount);
        Assert.Equal(8, Select(Pool(gpus: 8), offers).Chosen!.GpuCount);
        var cpu = PoolPolicy.From("cpu", new GpuPoolSpec(["lambda"], new PoolRequirements(GpusPerNode: 0)));
        Assert.Equal(0, Select(cpu, offers).Chosen!.GpuCount);
    }

    [Fact]
    public void Provider_region_model_and_size_minimums_are_requirements()
    {
        var pool = PoolPolicy.From("p", new GpuPoolSpec(["lambda"], new PoolRequirements(["H100", "H200"], 1, 80, 16, 100), Regions: ["us-east-1"]));
        Offer[] misses =
        [
            Offer(provider: "hetzner", price: 0.1m),
            Offer(region: "eu-1", price: 0.1m),
            Offer(model: "A100", price: 0.1m),
            Offer(model: null, price: 0.1m),
            Offer(memory: 40, price: 0.1m),
            Offer(vcpus: 8, price: 0.1m),
            Offer(ram: 64, price: 0.1m),
        ];
        var none = Select(pool, misses);
        Assert.Null(none.Chosen);
        Assert.Equal("no offer fits pool p: none of 7 offers matches the requirements (1xH100|H200 from lambda; spot or on-demand; us-east-1): "
            + "1 from other providers, 1 in other regions, 2 with other GPU models, 1 with less than 80 GiB per GPU, "
            + "1 with fewer than 16 vCPUs, 1 with less than 100 GiB RAM", none.Summary);
        // A GPU memory of 0 means "not stated": the catalog's 141 GiB for an H200 counts.
        Assert.Equal("H200", Select(pool, [.. misses, Offer(model: "H200", memory: 0, price: 5m)]).Chosen!.GpuModel);
    }

    [Fact]
    public void Nothing_fits_summary_counts_each_reason_with_examples()
    {
        var cache = new UnavailableOffers(_time);
        var offers = new List<Offer>();
        for (var i = 0; i < 5; i++)
        {
            var o = Offer(instanceType: $"gpu_8x_h100_{i}", gpus: 8, price: 15m + i);
            offers.Add(o);
            cache.Mark(o, ProviderErrorReason.InsufficientCapacity, "out of capacity");
        }
        for (var i = 0; i < 7; i++)
        {
            offers.Add(Offer(provider: "verda", instanceType: $"8H100.{i}", gpus: 8, price: 21m + i));
        }
        _time.Advance(TimeSpan.FromSeconds(40));
        var result = Select(Pool(gpus: 8, maxPrice: 20m), offers, cache: cache);
        Assert.Null(result.Chosen);
        Assert.Equal("no offer fits pool h100: 12 offers match the requirements; 5 recently unavailable "
            + "(lambda:gpu_8x_h100_0:us-east-1:on-demand InsufficientCapacity 40s ago, lambda:gpu_8x_h100_1:us-east-1:on-demand InsufficientCapacity 40s ago, "
            + "lambda:gpu_8x_h100_2:us-east-1:on-demand InsufficientCapacity 40s ago, ...), 7 above maxPricePerHour 20 (cheapest $21.00/h)", result.Summary);
        Assert.Equal(12, result.Considered.Count);
        Assert.Equal(offers.OrderBy(o => o.PricePerHour).Select(o => o.Key), result.Considered.Select(c => c.Offer.Key));
        Assert.Equal("$21.00/h is above maxPricePerHour 20", result.Considered[5].Message);
    }

    [Fact]
    public void Pool_limits_leave_room_only_for_offers_that_fit()
    {
        var pool = Pool(gpus: 8, limits: new PoolLimits(MaxGpus: 16, MaxPricePerHour: 50m));
        Offer[] offers = [Offer(gpus: 8, price: 20m), Offer(gpus: 8, price: 30m, region: "b")];
        Assert.Equal(20m, Select(pool, offers, new PoolUsage(8, 25m)).Chosen!.PricePerHour);
        var full = Select(pool, offers, new PoolUsage(16, 25m));
        Assert.Null(full.Chosen);
        Assert.Contains("2 would exceed limits.maxGpus 16 (the pool holds 16)", full.Summary);
        var spent = Select(pool, offers, new PoolUsage(8, 35m));
        Assert.Null(spent.Chosen);
        Assert.Contains("2 would exceed limits.maxPricePerHour 50 (the pool spends $35.00/h)", spent.Summary);
        Assert.Equal("the pool would spend $55.00/h; limits.maxPricePerHour is 50", spent.Considered[0].Message);
    }

    [Fact]
    public void Excluded_and_unavailable_in_catalog_offers_are_passed_over()
    {
        var tried = Offer(price: 1m);
        var result = Select(Pool(), [tried, Offer(price: 2m, available: false), Offer(price: 3m, region: "b")], excluded: new HashSet<string> { tried.Key });
        Assert.Equal(3m, result.Chosen!.PricePerHour);
        Assert.Equal([OfferRejectionReason.Excluded, OfferRejectionReason.NotAvailable], result.Considered.Select(c => c.Reason));
        Assert.Contains("passed over: 1 without capacity in the provider's catalog, 1 excluded (already tried)", result.Summary);
    }

    [Fact]
    public void A_provider_wide_quota_mark_skips_all_its_offers()
    {
        var cache = new UnavailableOffers(_time);
        cache.MarkProvider("lambda", null, ProviderErrorReason.QuotaExceeded, "quota exceeded");
        var result = Select(Pool(), [Offer(price: 1m), Offer(instanceType: "other", price: 1.1m), Offer(provider: "verda", price: 4m)], cache: cache);
        Assert.Equal("verda", result.Chosen!.Provider);
        Assert.All(result.Considered, c => Assert.Contains("(lambda:*:*:*)", c.Message));
    }

    [Fact]
    public void Considered_is_capped_and_empty_catalogs_say_so()
    {
        var offers = Enumerable.Range(0, 50).Select(i => Offer(instanceType: $"t{i:D2}", price: 100m + i)).ToArray();
        var result = Select(Pool(maxPrice: 10m), offers);
        Assert.Equal(OfferSelector.MaxConsidered, result.Considered.Count);
        Assert.Equal("lambda:t00:us-east-1:on-demand", result.Considered[0].Offer.Key);
        Assert.Contains("50 above maxPricePerHour 10 (cheapest $100.00/h)", result.Summary);
        Assert.Equal("no offer fits pool h100: the pool's providers list no offers (catalogs not fetched yet, or no capacity anywhere)",
            Select(Pool(), []).Summary);
    }

    [Fact]
    public void Usage_sums_the_active_claims_only()
    {
        NodeClaim[] claims =
        [
            Claim("a", ClaimPhases.Initialized, T0, 2m) with { GpuCount = 8 },
            Claim("b", ClaimPhases.Pending, T0, null),
            Claim("c", ClaimPhases.Terminated, T0, 9m),
        ];
        Assert.Equal(new PoolUsage(9, 2m), PoolUsage.Of(claims));
    }
}
