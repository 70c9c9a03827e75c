using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Atoll.Providers.Hetzner;
using Atoll.Providers.Http;
using Atoll.Testing.Providers;
using static Atoll.Providers.Tests.Hetzner.HetznerTestKit;

namespace Atoll.Providers.Tests.Hetzner;

/// <summary>Hetzner offers and the error handling of its calls, against <see cref="HetznerStandIn"/>.</summary>
public sealed class HetznerOfferTests : IAsyncLifetime, IDisposable
{
    private readonly HetznerStandIn standIn = new();
    private readonly HttpClient http = new();

    public Task InitializeAsync() => standIn.AddDefaultCatalog().StartAsync();

    public async Task DisposeAsync() => await standIn.DisposeAsync();

    public void Dispose() => http.Dispose();

    [Fact]
    public async Task Offers_are_cpu_server_types_per_location_priced_from_the_net_decimal_strings()
    {
        standIn.CapacityExhausted("cpx31", "ash");

        var offers = await Provider(Spec(settings: InEuros)).GetOffersAsync(CancellationToken.None);

        Assert.Equal(["ccx33@fsn1", "cpx31@ash", "cpx31@fsn1", "cpx31@nbg1", "cx22@fsn1", "cx22@nbg1"],
            offers.Select(o => $"{o.InstanceType}@{o.Region}").Order()); // cx11 is deprecated
        var cx22 = offers.Single(o => o.Key == "hz:cx22:fsn1:on-demand");
        Assert.Equal(("hetzner", null, 0, 0), (cx22.ProviderType, cx22.GpuModel, cx22.GpuCount, cx22.GpuMemoryGiB));
        Assert.Equal((2, 4), (cx22.VCpus, cx22.MemoryGiB));
        Assert.Equal(0.006m, cx22.PricePerHour);
        Assert.Equal(0.0256m, offers.Single(o => o.Key == "hz:cpx31:ash:on-demand").PricePerHour);
        Assert.True(cx22.Available);
        Assert.False(offers.Single(o => o.Key == "hz:cpx31:ash:on-demand").Available);
    }

    [Fact]
    public async Task Offer_prices_are_converted_from_euros_at_the_configured_rate()
    {
        var byDefault = await Provider().GetOffersAsync(CancellationToken.None);
        var configured = await Provider(Spec(settings: new Dictionary<string, string> { ["eurToUsd"] = "1.25" })).GetOffersAsync(CancellationToken.None);

        Assert.Equal(0.0066m, byDefault.Single(o => o.Key == "hz:cx22:fsn1:on-demand").PricePerHour);
        Assert.Equal(0.0075m, configured.Single(o => o.Key == "hz:cx22:fsn1:on-demand").PricePerHour);
    }

    [Fact]
    public async Task Offers_are_limited_to_the_spec_regions_and_read_every_page()
    {
        standIn.MaxPerPage = 1;

        var offers = await Provider(Spec(regions: ["nbg1"])).GetOffersAsync(CancellationToken.None);

        Assert.Equal(["cpx31", "cx22"], offers.Select(o => o.InstanceType).Order());
        Assert.All(offers, o => Assert.Equal("nbg1", o.Region));
        Assert.Equal(4, standIn.CallsTo("GET /server_types").Count);
    }

    [Fact]
    public async Task A_refused_token_is_Unauthorized()
    {
        var e = await Assert.ThrowsAsync<ProviderException>(() => Provider(apiKey: "wrong").GetOffersAsync(CancellationToken.None));

        Assert.Equal(ProviderErrorReason.Unauthorized, e.Reason);
        Assert.Single(standIn.CallsTo("GET /server_types"));
    }

    [Fact]
    public async Task Rate_limits_are_retried_after_the_Retry_After_delay()
    {
        var time = new DelayRecordingTime();
        // The client caps a Retry-After at 3x MaxBackoff: raise it so the provider's 2 s is honoured as given.
        var provider = Provider(time: time, options: Fast with { MaxBackoff = TimeSpan.FromSeconds(5) });
        standIn.Fail("GET /server_types", 429, """{"error":{"code":"rate_limit_exceeded","message":"limit of 3600 requests per hour reached","details":{}}}""", retryAfter: "2");

        var offers = await provider.GetOffersAsync(CancellationToken.None);

        Assert.Equal(6, offers.Count);
        Assert.Equal(2, standIn.CallsTo("GET /server_types").Count);
        Assert.Equal(TimeSpan.FromSeconds(2), Assert.Single(time.Delays));
    }

    [Fact]
    public async Task Server_errors_are_retried()
    {
        standIn.Fail("GET /datacenters", 503, """{"error":{"code":"unavailable","message":"service unavailable","details":{}}}""", times: 2);

        Assert.Equal(6, (await Provider().GetOffersAsync(CancellationToken.None)).Count);
        Assert.Equal(3, standIn.CallsTo("GET /datacenters").Count);
    }

    private HetznerCloudProvider Provider(ProviderSpec? spec = null, string? apiKey = null, TimeProvider? time = null, ProviderHttpOptions? options = null) =>
        HetznerTestKit.Provider(standIn, http, spec, apiKey, time, options);
}
