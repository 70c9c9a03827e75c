using System.Text.Json;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Atoll.Providers.Http;
using Atoll.Providers.VoltagePark;
using Atoll.Testing.Providers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atoll.Providers.Tests.VoltagePark;

public sealed class VoltageParkCloudProviderTests : IAsyncLifetime, IDisposable
{
    private const string Locations = "GET /virtual-machines/instant/locations";

    private static ProviderHttpOptions Fast => ProviderTestKit.FastRetries;

    private readonly VoltageParkStandIn standIn = new();
    private readonly HttpClient http = new();

    public Task InitializeAsync() => standIn.AddDefaultCatalog().StartAsync();

    public async Task DisposeAsync() => await standIn.DisposeAsync();

    public void Dispose() => http.Dispose();

    [Fact]
    public async Task Offers_are_one_per_location_and_preset_with_price_gpus_and_availability()
    {
        var offers = await Provider().GetOffersAsync(CancellationToken.None);

        Assert.Equal(3, offers.Count);
        var big = offers.Single(o => o.InstanceType == "vp-8xh100-west");
        Assert.Equal(("vp", "voltagepark", "loc-us-west", "on-demand"), (big.Provider, big.ProviderType, big.Region, big.CapacityType));
        Assert.Equal(("H100", 8, 80), (big.GpuModel, big.GpuCount, big.GpuMemoryGiB));
        Assert.Equal((208, 1800), (big.VCpus, big.MemoryGiB));
        Assert.Equal(16.00m, big.PricePerHour); // compute 15.92 + storage 0.08
        Assert.Equal(16.00m, big.OnDemandPricePerHour);
        Assert.True(big.Available);
        Assert.False(offers.Single(o => o.InstanceType == "vp-8xh100-east").Available);
        Assert.Equal(2.00m, offers.Single(o => o.InstanceType == "vp-1xh100-west").PricePerHour);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Offers_follow_the_pages_by_next_link_or_by_offset(bool linkNext)
    {
        standIn.PageSize = 1;
        standIn.LinkNextPage = linkNext;

        var offers = await Provider().GetOffersAsync(CancellationToken.None);

        Assert.Equal(3, offers.Count);
        Assert.Equal(2, standIn.CallsTo(Locations).Count);
    }

    [Fact]
    public async Task Offers_are_limited_to_the_spec_regions()
    {
        var offers = await Provider(new ProviderSpec("voltagepark", Regions: ["LOC-US-EAST"])).GetOffersAsync(CancellationToken.None);

        Assert.Equal("vp-8xh100-east", Assert.Single(offers).InstanceType);
    }

    [Fact]
    public async Task Create_sends_the_documented_body_with_cloud_init_limited_to_packages_write_files_and_runcmd()
    {
        var provider = Provider(new ProviderSpec("voltagepark", SshKeys: ["key-1", "key-2"]));
        var offer = await OfferAsync(provider, "vp-1xh100-west");

        var created = await provider.CreateAsync(Launch(offer), CancellationToken.None);

        var call = Assert.Single(standIn.CallsTo("POST /virtual-machines/instant"));
        Assert.Equal("Bearer " + standIn.ApiKey, call.Authorization);
        var body = JsonDocument.Parse(call.Body).RootElement;
        Assert.Equal("vp-1xh100-west", body.GetProperty("config_id").GetString());
        Assert.Equal("atoll-c1-claim-1", body.GetProperty("name").GetString());
        Assert.Equal("selective", body.GetProperty("organization_ssh_keys").GetProperty("mode").GetString());
        Assert.Equal(["key-1", "key-2"], Strings(body.GetProperty("organization_ssh_keys").GetProperty("ssh_key_ids")));
        Assert.Empty(Strings(body.GetProperty("ssh_keys")));
        var cloudInit = body.GetProperty("cloud_init");
        Assert.Equal(["packages", "runcmd", "write_files"], cloudInit.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(["curl"], Strings(cloudInit.GetProperty("packages")));
        Assert.Equal(["systemctl start atoll-agent"], Strings(cloudInit.GetProperty("runcmd")));
        var file = Assert.Single(cloudInit.GetProperty("write_files").EnumerateArray().ToList());
        Assert.Equal(("/etc/atoll/join-token", "join-123", "0600"),
            (file.GetProperty("path").GetString(), file.GetProperty("content").GetString(), file.GetProperty("permissions").GetString()));
        Assert.Contains("atoll.dev/claim=claim-1", Strings(body.GetProperty("tags")));

        var vm = Assert.Single(standIn.Instances);
        Assert.Equal(vm.Id, created.Id);
        Assert.Equal((InstanceState.Pending, "loc-us-west", "vp-1xh100-west"), (created.State, created.Region, created.InstanceType));
        Assert.Equal("join-123", Assert.Single(vm.WriteFiles).Content);
    }

    [Fact]
    public async Task Create_without_ssh_keys_asks_for_none_of_the_organization_keys()
    {
        var provider = Provider();
        await provider.CreateAsync(Launch(await OfferAsync(provider, "vp-1xh100-west")), CancellationToken.None);

        var body = JsonDocument.Parse(Assert.Single(standIn.CallsTo("POST /virtual-machines/instant")).Body).RootElement;
        Assert.Equal("none", body.GetProperty("organization_ssh_keys").GetProperty("mode").GetString());
    }

    [Fact]
    public async Task Create_takes_capacity_and_delete_gives_it_back()
    {
        standIn.SetCapacity("vp-1xh100-west", 1);
        var provider = Provider();
        var created = await provider.CreateAsync(Launch(await OfferAsync(provider, "vp-1xh100-west")), CancellationToken.None);
        Assert.False((await OfferAsync(provider, "vp-1xh100-west")).Available);

        await provider.DeleteAsync(created.Id, CancellationToken.None);

        Assert.Equal(1, standIn.Capacity("vp-1xh100-west"));
        Assert.True((await OfferAsync(provider, "vp-1xh100-west")).Available);
        Assert.Equal(InstanceState.Terminated, (await provider.GetAsync(created.Id, CancellationToken.None))?.State);
    }

    [Fact]
    public async Task Create_without_capacity_is_InsufficientCapacity_with_the_providers_message()
    {
        var provider = Provider();
        var offer = await OfferAsync(provider, "vp-8xh100-east");

        var e = await Assert.ThrowsAsync<ProviderException>(() => provider.CreateAsync(Launch(offer), CancellationToken.None));

        Assert.Equal(ProviderErrorReason.InsufficientCapacity, e.Reason);
        Assert.Contains("No virtual machines available for preset vp-8xh100-east", e.Message);
        Assert.Single(standIn.CallsTo("POST /virtual-machines/instant"));
    }

    [Fact]
    public async Task Create_over_the_organizations_quota_is_QuotaExceeded()
    {
        standIn.MaxVms = 1;
        var provider = Provider();
        var offer = await OfferAsync(provider, "vp-1xh100-west");
        await provider.CreateAsync(Launch(offer, "a"), CancellationToken.None);

        var e = await Assert.ThrowsAsync<ProviderException>(() => provider.CreateAsync(Launch(offer, "b"), CancellationToken.None));

        Assert.Equal(ProviderErrorReason.QuotaExceeded, e.Reason);
        Assert.Contains("Quota exceeded", e.Message);
    }

    [Fact]
    public async Task A_refused_key_is_Unauthorized_and_not_retried()
    {
        var e = await Assert.ThrowsAsync<ProviderException>(() => Provider(apiKey: "wrong").GetOffersAsync(CancellationToken.None));

        Assert.Equal(ProviderErrorReason.Unauthorized, e.Reason);
        Assert.Single(standIn.CallsTo(Locations));
    }

    [Fact]
    public async Task Rate_limits_are_retried_after_the_Retry_After_delay()
    {
        var time = new DelayRecordingTime();
        // The client caps a Retry-After at 3x MaxBackoff: raise it so the provider's 2 s is honoured as given.
        var provider = Provider(time: time, options: Fast with { MaxBackoff = TimeSpan.FromSeconds(5) });
        standIn.Fail(Locations, 429, """{"detail":"Request was throttled."}""", retryAfter: "2");

        var offers = await provider.GetOffersAsync(CancellationToken.None);

        Assert.Equal(3, offers.Count);
        Assert.Equal(2, standIn.CallsTo(Locations).Count);
        Assert.Equal(TimeSpan.FromSeconds(2), Assert.Single(time.Delays));
    }

    [Fact]
    public async Task Server_errors_are_retried()
    {
        standIn.Fail(Locations, 503, """{"detail":"Service temporarily unavailable."}""", times: 2);

        var offers = await Provider().GetOffersAsync(CancellationToken.None);

        Assert.Equal(3, offers.Count);
        Assert.Equal(3, standIn.CallsTo(Locations).Count);
    }

    [Fact]
    public async Task The_public_IP_arrives_late_in_boot()
    {
        standIn.IpPolls = 2;
        var provider = Provider();
        var created = await provider.CreateAsync(Launch(await OfferAsync(provider, "vp-1xh100-west")), CancellationToken.None);

        var first = await provider.GetAsync(created.Id, CancellationToken.None);
        var second = await provider.GetAsync(created.Id, CancellationToken.None);
        var third = await provider.GetAsync(created.Id, CancellationToken.None);

        Assert.Null(first?.PublicIp);
        Assert.Null(second?.PublicIp);
        Assert.Equal(standIn.Instances.Single().PublicIp, third?.PublicIp);
        Assert.NotNull(third?.PublicIp);
        Assert.Equal(InstanceState.Running, third?.State);
    }

    [Fact]
    public async Task Deleting_a_missing_instance_succeeds_and_getting_it_answers_null()
    {
        var provider = Provider();

        await provider.DeleteAsync("no-such-vm", CancellationToken.None);

        Assert.Single(standIn.CallsTo("DELETE /virtual-machines/no-such-vm"));
        Assert.Null(await provider.GetAsync("no-such-vm", CancellationToken.None));
    }

    [Fact]
    public async Task List_returns_only_atoll_named_instances_of_every_cluster_across_pages()
    {
        standIn.PageSize = 2;
        standIn.AddVm("research-box", "vp-1xh100-west");
        standIn.AddVm("atoll-other-claim-9", "vp-1xh100-west");
        var provider = Provider();
        var offer = await OfferAsync(provider, "vp-1xh100-west");
        await provider.CreateAsync(Launch(offer, "a"), CancellationToken.None);
        await provider.CreateAsync(Launch(offer, "b"), CancellationToken.None);

        var listed = await provider.ListAsync(CancellationToken.None);

        Assert.Equal(["atoll-c1-a", "atoll-c1-b", "atoll-other-claim-9"], listed.Select(i => i.Name).Order());
        Assert.Equal(2, standIn.CallsTo("GET /virtual-machines/?").Count);
    }

    [Fact]
    public async Task An_outbid_spot_VM_is_Preempted()
    {
        var provider = Provider();
        var created = await provider.CreateAsync(Launch(await OfferAsync(provider, "vp-1xh100-west")), CancellationToken.None);

        standIn.Preempt(created.Id);
        var seen = await provider.GetAsync(created.Id, CancellationToken.None);

        Assert.Equal((InstanceState.Preempted, "Outbid"), (seen?.State, seen?.RawStatus));
        Assert.Equal(4, standIn.Capacity("vp-1xh100-west"));
    }

    [Theory]
    [InlineData("Running", InstanceState.Running)]
    [InlineData("Stopped", InstanceState.Failed)]
    [InlineData("StoppedDisassociated", InstanceState.Failed)]
    [InlineData("Terminated", InstanceState.Terminated)]
    [InlineData("Relocating", InstanceState.Pending)]
    [InlineData("Outbid", InstanceState.Preempted)]
    public async Task Statuses_map_to_atoll_states(string status, InstanceState expected)
    {
        var vm = standIn.AddVm("atoll-c1-x", "vp-1xh100-west", status);

        Assert.Equal(expected, (await Provider().GetAsync(vm.Id, CancellationToken.None))?.State);
    }

    [Fact]
    public async Task Reboot_is_not_offered()
    {
        var provider = Provider();

        Assert.False(provider.CanReboot);
        await Assert.ThrowsAsync<NotSupportedException>(() => provider.RebootAsync("any", CancellationToken.None));
    }

    private VoltageParkCloudProvider Provider(ProviderSpec? spec = null, string? apiKey = null, TimeProvider? time = null, ProviderHttpOptions? options = null) =>
        new(new ProviderContext("vp", (spec ?? new ProviderSpec("voltagepark")) with { BaseUrl = standIn.BaseUrl.ToString() },
            new Dictionary<string, string> { ["apiKey"] = apiKey ?? standIn.ApiKey }, "c1", http, time ?? TimeProvider.System,
            NullLoggerFactory.Instance, options ?? Fast));

    private static async Task<Offer> OfferAsync(VoltageParkCloudProvider provider, string type) =>
        (await provider.GetOffersAsync(CancellationToken.None)).Single(o => o.InstanceType == type);

    private static LaunchRequest Launch(Offer offer, string claim = "claim-1") => new(
        InstanceNames.For("c1", claim),
        offer,
        new BootstrapBundle("#!/bin/bash\natoll agent", "#cloud-config\nruncmd: [atoll agent]",
            [new BootstrapFile("/etc/atoll/join-token", "join-123", "0600")], ["systemctl start atoll-agent"], ["curl"], ["agent"]),
        new Dictionary<string, string> { ["atoll.dev/claim"] = claim, ["atoll.dev/cluster"] = "c1" });

    private static List<string?> Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()).ToList();

    /// <summary>The system clock, except that every timer's delay is recorded and then fires at once: the test sees the waits the adapter asks for without waiting.</summary>
    private sealed class DelayRecordingTime : TimeProvider
    {
        public System.Collections.Concurrent.ConcurrentQueue<TimeSpan> Delays { get; } = new();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                Delays.Enqueue(dueTime);
                dueTime = TimeSpan.Zero;
            }
            return base.CreateTimer(callback, state, dueTime, period);
        }
    }
}
