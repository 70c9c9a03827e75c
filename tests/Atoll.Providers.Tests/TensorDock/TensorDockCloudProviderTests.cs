using System.Text.Json;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Atoll.Providers.Http;
using Atoll.Providers.TensorDock;
using Atoll.Testing.Providers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atoll.Providers.Tests.TensorDock;

public sealed class TensorDockCloudProviderTests : IAsyncLifetime, IDisposable
{
    private const string SshKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAtoll atoll@test";

    private static ProviderHttpOptions Fast => ProviderTestKit.FastRetries;

    private readonly TensorDockStandIn standIn = new();
    private readonly HttpClient http = new();

    public Task InitializeAsync() => standIn.AddDefaultCatalog().StartAsync();

    public async Task DisposeAsync() => await standIn.DisposeAsync();

    public void Dispose() => http.Dispose();

    [Fact]
    public async Task Offers_are_per_location_gpu_and_power_of_two_count_up_to_max_count()
    {
        var offers = await Provider().GetOffersAsync(CancellationToken.None);

        Assert.Equal(["1xh100-sxm5-80gb", "2xh100-sxm5-80gb", "4xh100-sxm5-80gb", "8xh100-sxm5-80gb"],
            offers.Where(o => o.GpuModel == "H100").Select(o => o.InstanceType));
        Assert.Equal(["1xgeforcertx4090-pcie-24gb", "2xgeforcertx4090-pcie-24gb", "4xgeforcertx4090-pcie-24gb"],
            offers.Where(o => o.GpuModel == "RTX4090").Select(o => o.InstanceType));
        Assert.All(offers, o => Assert.Equal(("tensordock", "on-demand"), (o.ProviderType, o.CapacityType)));

        var two = offers.Single(o => o.InstanceType == "2xh100-sxm5-80gb");
        Assert.Equal(("loc-austin", 2, 80, 16, 64), (two.Region, two.GpuCount, two.GpuMemoryGiB, two.VCpus, two.MemoryGiB));
        // 2 x 2.20 GPU + 16 vCPU x 0.003 + 64 GB x 0.002 + 200 GB x 0.00005
        Assert.Equal(4.586m, two.PricePerHour);
        Assert.True(two.Available);
        var fourRtx = offers.Single(o => o.InstanceType == "4xgeforcertx4090-pcie-24gb");
        Assert.Equal((24, 32, 96), (fourRtx.GpuMemoryGiB, fourRtx.VCpus, fourRtx.MemoryGiB)); // capped by the location's max
        var a100 = Assert.Single(offers, o => o.GpuModel == "A100");
        Assert.Equal(("1xa100-sxm4-80gb", "loc-oslo", false), (a100.InstanceType, a100.Region, a100.Available));
    }

    [Fact]
    public async Task A_gpu_atoll_does_not_know_has_no_model_but_keeps_its_memory()
    {
        standIn.AddGpu("loc-oslo", new TensorDockStandInGpu("mysterygpu-pcie-12gb", "Mystery GPU 12GB", 0.10m, MaxPerVm: 1), 1);

        var offer = Assert.Single(await Provider().GetOffersAsync(CancellationToken.None), o => o.InstanceType == "1xmysterygpu-pcie-12gb");

        Assert.Equal((null, 1, 12), (offer.GpuModel, offer.GpuCount, offer.GpuMemoryGiB));
    }

    [Theory]
    [InlineData("Oslo", "loc-oslo")]
    [InlineData("united states", "loc-austin")]
    [InlineData("loc-austin", "loc-austin")]
    public async Task Offers_are_limited_to_the_spec_regions_by_id_city_or_country(string region, string location)
    {
        var offers = await Provider(Spec(regions: [region])).GetOffersAsync(CancellationToken.None);

        Assert.NotEmpty(offers);
        Assert.All(offers, o => Assert.Equal(location, o.Region));
    }

    [Fact]
    public async Task Create_sends_the_documented_body_and_takes_the_gpus()
    {
        var provider = Provider(Spec(settings: new Dictionary<string, string> { ["storageGb"] = "150" }));
        var offer = await OfferAsync(provider, "2xh100-sxm5-80gb");

        var created = await provider.CreateAsync(Launch(offer), CancellationToken.None);

        var call = Assert.Single(standIn.CallsTo("POST /instances"));
        Assert.Equal("Bearer " + standIn.ApiKey, call.Authorization);
        var data = JsonDocument.Parse(call.Body).RootElement.GetProperty("data");
        Assert.Equal("virtualmachine", data.GetProperty("type").GetString());
        var attributes = data.GetProperty("attributes");
        Assert.Equal(("atoll-c1-claim-1", "virtualmachine", "ubuntu2404", "loc-austin", SshKey),
            (Text(attributes, "name"), Text(attributes, "type"), Text(attributes, "image"), Text(attributes, "location_id"), Text(attributes, "ssh_key")));
        Assert.True(attributes.GetProperty("useDedicatedIp").GetBoolean());
        var resources = attributes.GetProperty("resources");
        Assert.Equal((16, 64, 150), (resources.GetProperty("vcpu_count").GetInt32(), resources.GetProperty("ram_gb").GetInt32(), resources.GetProperty("storage_gb").GetInt32()));
        Assert.Equal(2, resources.GetProperty("gpus").GetProperty("h100-sxm5-80gb").GetProperty("count").GetInt32());
        var cloudInit = attributes.GetProperty("cloud_init");
        Assert.Equal(["packages", "runcmd", "write_files"], cloudInit.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal("systemctl start atoll-agent", cloudInit.GetProperty("runcmd")[0].GetString());
        Assert.Equal("/etc/atoll/join-token", cloudInit.GetProperty("write_files")[0].GetProperty("path").GetString());

        var vm = Assert.Single(standIn.Instances);
        Assert.Equal(vm.Id, created.Id);
        Assert.Equal((InstanceState.Pending, "loc-austin", "2xh100-sxm5-80gb"), (created.State, created.Region, created.InstanceType));
        Assert.Equal("join-123", Assert.Single(vm.WriteFiles).Content);
        Assert.Equal(6, standIn.Capacity("loc-austin", "h100-sxm5-80gb"));
    }

    [Fact]
    public async Task Create_without_an_ssh_key_is_refused_before_calling_the_API()
    {
        var provider = Provider(new ProviderSpec("tensordock"));
        var offer = await OfferAsync(provider, "1xh100-sxm5-80gb");

        var e = await Assert.ThrowsAsync<ProviderException>(() => provider.CreateAsync(Launch(offer), CancellationToken.None));

        Assert.Equal(ProviderErrorReason.InvalidRequest, e.Reason);
        Assert.Contains("sshKeys", e.Message);
        Assert.Empty(standIn.CallsTo("POST /instances"));
    }

    [Fact]
    public async Task Create_without_free_gpus_is_InsufficientCapacity_with_the_providers_message()
    {
        var provider = Provider();
        var offer = await OfferAsync(provider, "1xa100-sxm4-80gb");

        var e = await Assert.ThrowsAsync<ProviderException>(() => provider.CreateAsync(Launch(offer), CancellationToken.None));

        Assert.Equal(ProviderErrorReason.InsufficientCapacity, e.Reason);
        Assert.Contains("No available GPUs of type a100-sxm4-80gb", e.Message);
    }

    [Fact]
    public async Task Create_over_the_instance_limit_is_QuotaExceeded_not_Unauthorized()
    {
        standIn.MaxInstances = 0;
        var provider = Provider();

        var e = await Assert.ThrowsAsync<ProviderException>(() =>
            provider.CreateAsync(Launch(OfferFor("1xh100-sxm5-80gb", "loc-austin")), CancellationToken.None));

        Assert.Equal(ProviderErrorReason.QuotaExceeded, e.Reason);
        Assert.Contains("Instance limit reached", e.Message);
    }

    [Fact]
    public async Task A_refused_key_is_Unauthorized()
    {
        var e = await Assert.ThrowsAsync<ProviderException>(() => Provider(apiKey: "wrong").GetOffersAsync(CancellationToken.None));

        Assert.Equal(ProviderErrorReason.Unauthorized, e.Reason);
        Assert.Single(standIn.CallsTo("GET /locations"));
    }

    [Fact]
    public async Task Rate_limits_are_retried_after_the_Retry_After_delay()
    {
        var time = new DelayRecordingTime();
        // The client caps a Retry-After at 3x MaxBackoff: raise it so the provider's 2 s is honoured as given.
        var provider = Provider(time: time, options: Fast with { MaxBackoff = TimeSpan.FromSeconds(5) });
        standIn.Fail("GET /locations", 429, """{"errors":[{"status":"429","title":"Too Many Requests","detail":"Rate limit of 100 requests per minute exceeded"}]}""", retryAfter: "2");

        var offers = await provider.GetOffersAsync(CancellationToken.None);

        Assert.Equal(8, offers.Count);
        Assert.Equal(2, standIn.CallsTo("GET /locations").Count);
        Assert.Equal(TimeSpan.FromSeconds(2), Assert.Single(time.Delays));
    }

    [Fact]
    public async Task Calls_are_paced_under_100_a_minute_by_default()
    {
        var time = new DelayRecordingTime();
        var provider = Provider(time: time, defaultOptions: true);

        var spent = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 4; i++)
        {
            await provider.GetOffersAsync(CancellationToken.None);
        }
        spent.Stop();

        // Slots 1/1.5 s apart: the fourth call waits for the slot 2 s after the first, less the real time the calls
        // took (the recorded delays are not slept). So its wait plus that time is at least 2 s however slow the
        // machine is (20 ms of slack for the two clocks), and the wait alone is at most 2 s.
        Assert.Equal(3, time.Delays.Count);
        var last = time.Delays.Last();
        Assert.True(last <= TimeSpan.FromSeconds(2), $"the fourth call waited {last}, more than the 2 s of its slot");
        Assert.True(last + spent.Elapsed >= TimeSpan.FromSeconds(1.98),
            $"the fourth call waited {last} after {spent.Elapsed} of calls: its slot is under 2 s after the first");
    }

    [Fact]
    public async Task Server_errors_are_retried()
    {
        standIn.Fail("GET /locations", 502, """{"errors":[{"status":"502","title":"Bad Gateway","detail":"upstream"}]}""", times: 2);

        Assert.Equal(8, (await Provider().GetOffersAsync(CancellationToken.None)).Count);
        Assert.Equal(3, standIn.CallsTo("GET /locations").Count);
    }

    [Fact]
    public async Task Status_and_IP_arrive_late_in_boot()
    {
        standIn.BootPolls = 1;
        standIn.IpPolls = 2;
        var provider = Provider();
        var created = await provider.CreateAsync(Launch(OfferFor("1xh100-sxm5-80gb", "loc-austin")), CancellationToken.None);

        var first = await provider.GetAsync(created.Id, CancellationToken.None);
        var second = await provider.GetAsync(created.Id, CancellationToken.None);
        var third = await provider.GetAsync(created.Id, CancellationToken.None);

        Assert.Equal((InstanceState.Pending, null), (first?.State, first?.PublicIp));
        Assert.Equal((InstanceState.Running, null), (second?.State, second?.PublicIp));
        Assert.Equal(standIn.Instances.Single().Ip, third?.PublicIp);
        Assert.NotNull(third?.PublicIp);
        Assert.Equal(("atoll-c1-claim-1", "loc-austin", "1xh100-sxm5-80gb"), (third?.Name, third?.Region, third?.InstanceType));
    }

    [Fact]
    public async Task List_reads_the_wrapped_shape_and_the_snake_case_IP()
    {
        standIn.SnakeCaseIp = true;
        standIn.WrapInstanceList = true;
        var vm = standIn.AddInstance("atoll-c1-x", "loc-austin", "h100-sxm5-80gb");

        var listed = Assert.Single(await Provider().ListAsync(CancellationToken.None));

        Assert.Equal((vm.Id, vm.Ip, InstanceState.Running), (listed.Id, listed.PublicIp, listed.State));
    }

    [Fact]
    public async Task List_returns_only_atoll_named_instances()
    {
        standIn.AddInstance("someones-notebook", "loc-austin", "geforcertx4090-pcie-24gb");
        standIn.AddInstance("atoll-other-claim-9", "loc-austin", "geforcertx4090-pcie-24gb");
        var provider = Provider();
        await provider.CreateAsync(Launch(OfferFor("1xh100-sxm5-80gb", "loc-austin")), CancellationToken.None);

        var listed = await provider.ListAsync(CancellationToken.None);

        Assert.Equal(["atoll-c1-claim-1", "atoll-other-claim-9"], listed.Select(i => i.Name).Order());
    }

    [Fact]
    public async Task Deleting_a_missing_instance_succeeds_and_delete_frees_the_gpus()
    {
        var provider = Provider();
        await provider.DeleteAsync("no-such-vm", CancellationToken.None);
        Assert.Null(await provider.GetAsync("no-such-vm", CancellationToken.None));

        var created = await provider.CreateAsync(Launch(OfferFor("4xh100-sxm5-80gb", "loc-austin")), CancellationToken.None);
        Assert.Equal(4, standIn.Capacity("loc-austin", "h100-sxm5-80gb"));
        await provider.DeleteAsync(created.Id, CancellationToken.None);

        Assert.Equal(8, standIn.Capacity("loc-austin", "h100-sxm5-80gb"));
        Assert.Null(await provider.GetAsync(created.Id, CancellationToken.None));
    }

    [Theory]
    [InlineData("starting", InstanceState.Pending)]
    [InlineData("running", InstanceState.Running)]
    [InlineData("stopping", InstanceState.Terminating)]
    [InlineData("stopped", InstanceState.Failed)]
    [InlineData("deleted", InstanceState.Terminated)]
    [InlineData("error", InstanceState.Failed)]
    public async Task Statuses_map_to_atoll_states(string status, InstanceState expected)
    {
        var vm = standIn.AddInstance("atoll-c1-x", "loc-austin", "h100-sxm5-80gb", status: status);

        Assert.Equal(expected, (await Provider().GetAsync(vm.Id, CancellationToken.None))?.State);
    }

    [Fact]
    public void A_bad_sizing_setting_is_refused_naming_the_key()
    {
        var e = Assert.Throws<ProviderException>(() => Provider(Spec(settings: new Dictionary<string, string> { ["storageGb"] = "50" })));

        Assert.Contains("settings.storageGb", e.Message);
    }

    private static ProviderSpec Spec(IReadOnlyList<string>? regions = null, IReadOnlyDictionary<string, string>? settings = null) =>
        new("tensordock", Regions: regions, SshKeys: [SshKey], Settings: settings);

    private TensorDockCloudProvider Provider(
        ProviderSpec? spec = null, string? apiKey = null, TimeProvider? time = null, ProviderHttpOptions? options = null, bool defaultOptions = false) =>
        new(new ProviderContext("td", (spec ?? Spec()) with { BaseUrl = standIn.BaseUrl.ToString() },
            new Dictionary<string, string> { ["apiKey"] = apiKey ?? standIn.ApiKey }, "c1", http, time ?? TimeProvider.System,
            NullLoggerFactory.Instance, defaultOptions ? null : options ?? Fast));

    private static async Task<Offer> OfferAsync(TensorDockCloudProvider provider, string type) =>
        (await provider.GetOffersAsync(CancellationToken.None)).Single(o => o.InstanceType == type);

    private static Offer OfferFor(string type, string region) =>
        new("td", "tensordock", type, region, "on-demand", "H100", 1, 80, 8, 32, 2.5m, 2.5m, true);

    private static LaunchRequest Launch(Offer offer, string claim = "claim-1") => new(
        InstanceNames.For("c1", claim),
        offer,
        new BootstrapBundle("#!/bin/bash\natoll agent", "#cloud-config\nruncmd: [atoll agent]",
            [new BootstrapFile("/etc/atoll/join-token", "join-123", "0600")], ["systemctl start atoll-agent"], ["curl"], ["agent"]),
        new Dictionary<string, string> { ["atoll.dev/claim"] = claim });

    private static string? Text(JsonElement e, string name) => e.GetProperty(name).GetString();

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
