using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Microsoft.Extensions.Time.Testing;
using static Atoll.Core.Tests.Fleet.FleetTestData;

namespace Atoll.Core.Tests.Fleet;

public sealed class UnavailableOffersTests
{
    private readonly FakeTimeProvider _time = new(T0);

    [Fact]
    public void A_marked_offer_is_unavailable_until_the_ttl_passes()
    {
        var cache = new UnavailableOffers(_time);
        var offer = Offer();
        cache.Mark(offer.Key, ProviderErrorReason.InsufficientCapacity, "no capacity");

        Assert.True(cache.IsUnavailable(offer, out var why));
        Assert.Equal((offer.Key, ProviderErrorReason.InsufficientCapacity, "no capacity"), (why!.Key, why.Reason, why.Message));
        Assert.Equal(T0 + TimeSpan.FromMinutes(3), why.ExpiresAt);
        Assert.False(cache.IsUnavailable(offer with { Region = "us-west-1" }, out _));
        Assert.False(cache.IsUnavailable(offer with { CapacityType = CapacityTypes.Spot }, out _));

        _time.Advance(TimeSpan.FromMinutes(3) - TimeSpan.FromSeconds(1));
        Assert.True(cache.IsUnavailable(offer, out _));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(cache.IsUnavailable(offer, out var gone));
        Assert.Null(gone);
        Assert.Empty(cache.Entries());
    }

    [Fact]
    public void Marking_again_restarts_the_ttl_with_the_latest_reason()
    {
        var cache = new UnavailableOffers(_time, TimeSpan.FromMinutes(1));
        var offer = Offer();
        cache.Mark(offer, ProviderErrorReason.InsufficientCapacity, "first");
        _time.Advance(TimeSpan.FromSeconds(50));
        cache.Mark(offer.Key, ProviderErrorReason.Transient, "second");
        _time.Advance(TimeSpan.FromSeconds(50));
        Assert.True(cache.IsUnavailable(offer, out var why));
        Assert.Equal("second", why!.Message);
        Assert.Single(cache.Entries());
    }

    [Fact]
    public void A_quota_mark_blocks_every_offer_of_the_provider_and_only_that_provider()
    {
        var cache = new UnavailableOffers(_time);
        cache.MarkProvider("lambda", null, ProviderErrorReason.QuotaExceeded, "quota exceeded");

        Assert.True(cache.IsUnavailable(Offer(instanceType: "gpu_8x_h100", region: "eu-1"), out var why));
        Assert.Equal("lambda:*:*:*", why!.Key);
        Assert.True(why.IsProviderWide);
        Assert.True(cache.IsUnavailable(Offer(capacity: CapacityTypes.Spot), out _));
        Assert.False(cache.IsUnavailable(Offer(provider: "verda"), out _));
    }

    [Fact]
    public void A_provider_mark_for_one_capacity_type_leaves_the_other()
    {
        var cache = new UnavailableOffers(_time);
        cache.MarkProvider("verda", CapacityTypes.Spot, ProviderErrorReason.QuotaExceeded, "spot quota");
        Assert.True(cache.IsUnavailable(Offer(provider: "verda", capacity: CapacityTypes.Spot), out _));
        Assert.False(cache.IsUnavailable(Offer(provider: "verda", capacity: CapacityTypes.OnDemand), out _));
        cache.Forget("verda");
        Assert.False(cache.IsUnavailable(Offer(provider: "verda", capacity: CapacityTypes.Spot), out _));
    }

    [Theory]
    [InlineData("lambda")]
    [InlineData("lambda:gpu:us")]
    [InlineData(":gpu:us:spot")]
    public void Keys_that_are_not_offer_keys_are_refused(string key) =>
        Assert.Throws<ArgumentException>(() => new UnavailableOffers(_time).Mark(key, ProviderErrorReason.Transient, "x"));

    [Fact]
    public void Concurrent_marks_and_reads_lose_nothing()
    {
        var cache = new UnavailableOffers(_time);
        Parallel.For(0, 2000, i =>
        {
            cache.Mark(Offer(instanceType: "t" + i), ProviderErrorReason.InsufficientCapacity, "x");
            Assert.True(cache.IsUnavailable(Offer(instanceType: "t" + i), out _));
        });
        Assert.Equal(2000, cache.Entries().Count);
    }
}
