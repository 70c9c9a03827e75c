using Atoll.Core.Resources;

namespace Atoll.Providers.Tests.Verda;

public sealed class VerdaOfferTests
{
    [Fact]
    public async Task Offers_are_spot_and_on_demand_per_location_priced_and_available_as_the_availability_lists_say()
    {
        await using var h = await VerdaHarness.StartAsync();

        var offers = await h.Provider.GetOffersAsync(CancellationToken.None);

        Assert.Equal(4 * 3 * 2, offers.Count);
        var h100 = offers.Where(o => o.InstanceType == "1H100.80S.30V").ToDictionary(o => (o.Region, o.CapacityType));
        Assert.Equal((2.19m, 2.19m, true), (h100[("FIN-01", "on-demand")].PricePerHour, h100[("FIN-01", "on-demand")].OnDemandPricePerHour, h100[("FIN-01", "on-demand")].Available));
        Assert.Equal((0.99m, 2.19m, true), (h100[("FIN-01", "spot")].PricePerHour, h100[("FIN-01", "spot")].OnDemandPricePerHour, h100[("FIN-01", "spot")].Available));
        Assert.False(h100[("FIN-02", "on-demand")].Available);
        Assert.True(h100[("FIN-02", "spot")].Available);
        Assert.False(h100[("ICE-01", "spot")].Available);
        var one = h100[("FIN-01", "on-demand")];
        Assert.Equal(("verda-test", ProviderTypes.Verda, "H100", 1, 80, 30, 120),
            (one.Provider, one.ProviderType, one.GpuModel, one.GpuCount, one.GpuMemoryGiB, one.VCpus, one.MemoryGiB));
        var eight = Assert.Single(offers, o => o.InstanceType == "8H100.80S.176V" && o.Region == "FIN-01" && o.CapacityType == "on-demand");
        Assert.Equal(("H100", 8, 80, 17.52m), (eight.GpuModel, eight.GpuCount, eight.GpuMemoryGiB, eight.PricePerHour));
        var a100 = Assert.Single(offers, o => o.InstanceType == "1A100.22V" && o.Region == "ICE-01" && o.CapacityType == "spot");
        Assert.Equal(("A100", 40, 0.45m, true), (a100.GpuModel, a100.GpuMemoryGiB, a100.PricePerHour, a100.Available));
        Assert.Single(h.Verda.CallsTo("GET /instance-types?currency=usd"));
        Assert.Single(h.Verda.CallsTo("GET /instance-availability?isSpot=true"));
        Assert.Single(h.Verda.CallsTo("GET /instance-availability?isSpot=false"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Prices_given_as_strings_or_as_numbers_read_the_same(bool asStrings)
    {
        await using var h = await VerdaHarness.StartAsync(setup: v => v.PricesAsStrings = asStrings);

        var offers = await h.Provider.GetOffersAsync(CancellationToken.None);

        var spot = Assert.Single(offers, o => o.InstanceType == "1L40S.20V" && o.Region == "FIN-02" && o.CapacityType == "spot");
        Assert.Equal((0.40m, 1.10m), (spot.PricePerHour, spot.OnDemandPricePerHour));
        Assert.Equal(17.52m, offers.First(o => o.InstanceType == "8H100.80S.176V" && o.CapacityType == "on-demand").PricePerHour);
    }

    [Fact]
    public async Task Offers_are_limited_to_the_providers_regions()
    {
        await using var h = await VerdaHarness.StartAsync(regions: ["FIN-02"]);

        var offers = await h.Provider.GetOffersAsync(CancellationToken.None);

        Assert.Equal(4 * 2, offers.Count);
        Assert.All(offers, o => Assert.Equal("FIN-02", o.Region));
    }

    [Fact]
    public async Task Exhausted_capacity_makes_the_offers_unavailable()
    {
        await using var h = await VerdaHarness.StartAsync();
        h.Verda.CapacityExhausted("1H100.80S.30V", "FIN-01");

        var offers = await h.Provider.GetOffersAsync(CancellationToken.None);

        Assert.All(offers.Where(o => o.InstanceType == "1H100.80S.30V" && o.Region == "FIN-01"), o => Assert.False(o.Available));
        Assert.Contains(offers, o => o.InstanceType == "1H100.80S.30V" && o.Region == "FIN-02" && o.Available);
    }
}
