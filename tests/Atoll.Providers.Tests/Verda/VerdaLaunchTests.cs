using System.Text.Json.Nodes;
using Atoll.Core.Fleet;
using Atoll.Providers.Verda;

namespace Atoll.Providers.Tests.Verda;

public sealed class VerdaLaunchTests
{
    [Fact]
    public async Task Create_stores_the_bootstrap_as_a_startup_script_then_creates_the_instance_with_the_documented_body()
    {
        await using var h = await VerdaHarness.StartAsync();

        var created = await h.CreateAsync("claim-1");

        var script = JsonNode.Parse(Assert.Single(h.Verda.CallsTo("POST /scripts")).Body)!;
        Assert.Equal(("atoll-c1-claim-1", VerdaHarness.Bootstrap.Script), ((string?)script["name"], (string?)script["script"]));
        var instance = Assert.Single(h.Verda.Instances);
        var body = JsonNode.Parse(Assert.Single(h.Verda.CallsTo("POST /instances")).Body)!;
        Assert.Equal("1H100.80S.30V", (string?)body["instance_type"]);
        Assert.Equal(VerdaCloudProvider.DefaultImage, (string?)body["image"]);
        Assert.Equal(new string?[] { "key-id-1", "key-id-2" }, body["ssh_key_ids"]!.AsArray().Select(k => (string?)k));
        Assert.Equal(instance.StartupScriptId, (string?)body["startup_script_id"]);
        Assert.Equal(("atoll-c1-claim-1", "atoll-c1-claim-1"), ((string?)body["hostname"], (string?)body["description"]));
        Assert.Equal(("FIN-01", false), ((string?)body["location_code"], (bool?)body["is_spot"]));
        Assert.Equal(100, (int?)body["os_volume"]!["size"]);
        Assert.False(string.IsNullOrEmpty((string?)body["os_volume"]!["name"]));
        Assert.Null(body["os_volume"]!["on_spot_discontinue"]);

        Assert.Equal(instance.Id, created.Id);
        Assert.Equal(VerdaHarness.Bootstrap.Script, instance.StartupScript);
        Assert.Equal((InstanceState.Pending, "FIN-01", "1H100.80S.30V", "on-demand"), (created.State, created.Region, created.InstanceType, created.CapacityType));
        Assert.Equal(1, h.Verda.Capacity("1H100.80S.30V", "FIN-01", spot: false));
    }

    [Fact]
    public async Task Create_of_a_spot_offer_asks_for_spot_and_for_the_disk_to_go_with_the_instance()
    {
        await using var h = await VerdaHarness.StartAsync(image: "ubuntu-22.04-cuda-12.4-docker");

        var created = await h.CreateAsync("claim-1", "spot");

        var body = JsonNode.Parse(Assert.Single(h.Verda.CallsTo("POST /instances")).Body)!;
        Assert.Equal((true, "ubuntu-22.04-cuda-12.4-docker"), ((bool?)body["is_spot"], (string?)body["image"]));
        Assert.Equal("delete_permanently", (string?)body["os_volume"]!["on_spot_discontinue"]);
        Assert.Equal("spot", created.CapacityType);
        Assert.True(Assert.Single(h.Verda.Instances).IsSpot);
    }

    [Fact]
    public async Task Ids_answered_as_json_are_read_like_plain_text_ids()
    {
        await using var h = await VerdaHarness.StartAsync(setup: v => v.AnswerIdsAsJson = true);

        var created = await h.CreateAsync("claim-1");

        var instance = Assert.Single(h.Verda.Instances);
        Assert.Equal(instance.Id, created.Id);
        Assert.NotNull(instance.StartupScript);
    }

    [Fact]
    public async Task A_refused_create_of_an_offer_listed_as_available_is_InsufficientCapacity_with_verdas_message()
    {
        await using var h = await VerdaHarness.StartAsync();
        var offer = await h.OfferAsync("1H100.80S.30V", "FIN-01");
        Assert.True(offer.Available);
        h.Verda.CapacityExhausted("1H100.80S.30V", "FIN-01");

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Provider.CreateAsync(VerdaHarness.Launch("claim-1", offer), CancellationToken.None));

        Assert.Equal(ProviderErrorReason.InsufficientCapacity, e.Reason);
        Assert.Contains("No capacity for 1H100.80S.30V in FIN-01 right now", e.Message);
        Assert.Empty(h.Verda.Instances);
        Assert.Single(h.Verda.CallsTo("DELETE /scripts/"));
    }

    [Fact]
    public async Task A_refused_create_of_an_offer_listed_as_unavailable_stays_InvalidRequest()
    {
        await using var h = await VerdaHarness.StartAsync();
        var offer = await h.OfferAsync("1H100.80S.30V", "FIN-02");
        Assert.False(offer.Available);

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Provider.CreateAsync(VerdaHarness.Launch("claim-1", offer), CancellationToken.None));

        Assert.Equal(ProviderErrorReason.InvalidRequest, e.Reason);
    }

    [Fact]
    public async Task Insufficient_funds_is_QuotaExceeded()
    {
        await using var h = await VerdaHarness.StartAsync(setup: v => v.MaxInstances = 1);
        await h.CreateAsync("claim-1");

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.CreateAsync("claim-2"));

        Assert.Equal(ProviderErrorReason.QuotaExceeded, e.Reason);
        Assert.Contains("Not enough credit", e.Message);
        Assert.Single(h.Verda.Instances);
    }

    [Fact]
    public async Task A_429_on_create_is_retried_and_the_instance_is_created_once()
    {
        await using var h = await VerdaHarness.StartAsync();
        var offer = await h.OfferAsync("1H100.80S.30V", "FIN-01");
        h.Verda.Fail("POST /instances", 429, """{"code":"rate_limited","message":"Too many requests"}""", retryAfter: "0");

        var created = await h.Provider.CreateAsync(VerdaHarness.Launch("claim-1", offer), CancellationToken.None);

        Assert.Equal(2, h.Verda.CallsTo("POST /instances").Count);
        Assert.Equal(Assert.Single(h.Verda.Instances).Id, created.Id);
    }

    [Fact]
    public async Task Server_errors_are_retried_until_the_call_succeeds()
    {
        await using var h = await VerdaHarness.StartAsync();
        h.Verda.Fail("GET /instance-types", 503, """{"code":"service_unavailable","message":"Try again later"}""", times: 2);

        var offers = await h.Provider.GetOffersAsync(CancellationToken.None);

        Assert.NotEmpty(offers);
        Assert.Equal(3, h.Verda.CallsTo("GET /instance-types").Count);
    }
}
