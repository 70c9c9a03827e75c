using System.Text.Json;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Atoll.Providers.Hetzner;
using Atoll.Providers.Http;
using Atoll.Testing.Providers;
using static Atoll.Providers.Tests.Hetzner.HetznerTestKit;

namespace Atoll.Providers.Tests.Hetzner;

/// <summary>Hetzner servers (create, get, list, delete, reboot), against <see cref="HetznerStandIn"/>.</summary>
public sealed class HetznerServerTests : IAsyncLifetime, IDisposable
{
    private readonly HetznerStandIn standIn = new();
    private readonly HttpClient http = new();

    public Task InitializeAsync() => standIn.AddDefaultCatalog().StartAsync();

    public async Task DisposeAsync() => await standIn.DisposeAsync();

    public void Dispose() => http.Dispose();

    [Fact]
    public async Task Create_sends_the_documented_body_with_sanitized_labels()
    {
        var provider = Provider(Spec(sshKeys: ["ops-key"]));
        var tags = new Dictionary<string, string>
        {
            ["atoll.dev/claim"] = "claim-1",
            ["atoll.dev/cluster"] = "c1",
            ["Team Name/pool!"] = "cpu workers (eu)",
        };

        var created = await provider.CreateAsync(Launch(await OfferAsync(provider, "hz:cx22:fsn1:on-demand"), tags: tags), CancellationToken.None);

        var call = Assert.Single(standIn.CallsTo("POST /servers"));
        Assert.Equal("Bearer " + standIn.ApiKey, call.Authorization);
        var body = JsonDocument.Parse(call.Body).RootElement;
        Assert.Equal(("atoll-c1-claim-1", "cx22", "ubuntu-24.04", "fsn1"),
            (Text(body, "name"), Text(body, "server_type"), Text(body, "image"), Text(body, "location")));
        Assert.Equal("ops-key", Assert.Single(body.GetProperty("ssh_keys").EnumerateArray().ToList()).GetString());
        Assert.Equal(CloudConfig, Text(body, "user_data"));
        Assert.True(body.GetProperty("start_after_create").GetBoolean());
        var labels = body.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Equal(new Dictionary<string, string?>
        {
            ["atoll.dev/claim"] = "claim-1",
            ["atoll.dev/cluster"] = "c1",
            ["atoll.dev/managed"] = "true",
            ["team-name/pool"] = "cpu-workers--eu",
        }, labels);

        var server = Assert.Single(standIn.Servers);
        Assert.Equal(server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), created.Id);
        Assert.Equal((InstanceState.Pending, "initializing", "fsn1", "cx22"), (created.State, created.RawStatus, created.Region, created.InstanceType));
        Assert.Equal(server.Ip, created.PublicIp);
        Assert.Contains("join-123", server.UserData);
    }

    [Fact]
    public async Task The_spec_image_replaces_the_default()
    {
        var provider = Provider(Spec(image: "debian-12"));

        await provider.CreateAsync(Launch(await OfferAsync(provider, "hz:cx22:fsn1:on-demand")), CancellationToken.None);

        Assert.Equal("debian-12", Assert.Single(standIn.Servers).Image);
    }

    [Fact]
    public async Task User_data_over_32_KiB_is_refused_before_calling_the_API()
    {
        var provider = Provider();
        var offer = await OfferAsync(provider, "hz:cx22:fsn1:on-demand");
        var huge = "#cloud-config\n# " + new string('x', HetznerCloudProvider.MaxUserDataBytes);

        var e = await Assert.ThrowsAsync<ProviderException>(() => provider.CreateAsync(Launch(offer, cloudConfig: huge), CancellationToken.None));

        Assert.Equal(ProviderErrorReason.InvalidRequest, e.Reason);
        Assert.Contains("32768", e.Message);
        Assert.Empty(standIn.CallsTo("POST /servers"));
    }

    [Fact]
    public async Task An_unavailable_server_type_is_InsufficientCapacity_not_Unauthorized()
    {
        var provider = Provider();
        var offer = await OfferAsync(provider, "hz:cx22:fsn1:on-demand");
        standIn.CapacityExhausted("cx22", "fsn1");

        var e = await Assert.ThrowsAsync<ProviderException>(() => provider.CreateAsync(Launch(offer), CancellationToken.None));

        Assert.Equal(ProviderErrorReason.InsufficientCapacity, e.Reason);
        Assert.Contains("server type cx22 is unavailable in location fsn1", e.Message);
    }

    [Fact]
    public async Task A_placement_error_is_InsufficientCapacity()
    {
        standIn.Fail("POST /servers", 412, """{"error":{"code":"placement_error","message":"error during placement","details":{}}}""");

        var e = await Assert.ThrowsAsync<ProviderException>(() =>
            Provider().CreateAsync(Launch(OfferFor("cx22", "fsn1")), CancellationToken.None));

        Assert.Equal(ProviderErrorReason.InsufficientCapacity, e.Reason);
        Assert.Contains("error during placement", e.Message);
    }

    [Fact]
    public async Task Create_over_the_server_limit_is_QuotaExceeded()
    {
        standIn.MaxServers = 0;

        var e = await Assert.ThrowsAsync<ProviderException>(() =>
            Provider().CreateAsync(Launch(OfferFor("cx22", "fsn1")), CancellationToken.None));

        Assert.Equal(ProviderErrorReason.QuotaExceeded, e.Reason);
        Assert.Contains("server limit exceeded", e.Message);
    }

    [Fact]
    public async Task Status_and_IP_arrive_late_in_boot()
    {
        standIn.BootPolls = 1;
        standIn.IpPolls = 2;
        var provider = Provider();
        var created = await provider.CreateAsync(Launch(OfferFor("cx22", "fsn1")), CancellationToken.None);

        var first = await provider.GetAsync(created.Id, CancellationToken.None);
        var second = await provider.GetAsync(created.Id, CancellationToken.None);
        var third = await provider.GetAsync(created.Id, CancellationToken.None);

        Assert.Null(created.PublicIp);
        Assert.Equal((InstanceState.Pending, null), (first?.State, first?.PublicIp));
        Assert.Equal((InstanceState.Running, null), (second?.State, second?.PublicIp));
        Assert.Equal(Assert.Single(standIn.Servers).Ip, third?.PublicIp);
        Assert.NotNull(third?.PublicIp);
    }

    [Fact]
    public async Task Deleting_a_missing_server_succeeds_and_delete_gives_capacity_back()
    {
        var provider = Provider();
        await provider.DeleteAsync("999", CancellationToken.None);
        Assert.Null(await provider.GetAsync("999", CancellationToken.None));

        standIn.SetCapacity("cx22", "fsn1", 1);
        var created = await provider.CreateAsync(Launch(OfferFor("cx22", "fsn1")), CancellationToken.None);
        Assert.False((await OfferAsync(provider, "hz:cx22:fsn1:on-demand")).Available);
        await provider.DeleteAsync(created.Id, CancellationToken.None);

        Assert.True((await OfferAsync(provider, "hz:cx22:fsn1:on-demand")).Available);
        Assert.Empty(standIn.Servers);
    }

    [Fact]
    public async Task List_selects_atoll_servers_by_label_and_keeps_only_atoll_names()
    {
        var managed = new Dictionary<string, string> { ["atoll.dev/managed"] = "true" };
        standIn.AddServer("web-1", "cx22", "fsn1");
        standIn.AddServer("copied-label", "cx22", "fsn1", managed);
        standIn.AddServer("atoll-other-claim-9", "cpx31", "nbg1", managed);
        var provider = Provider();
        await provider.CreateAsync(Launch(OfferFor("cx22", "fsn1")), CancellationToken.None);

        var listed = await provider.ListAsync(CancellationToken.None);

        Assert.Equal(["atoll-c1-claim-1", "atoll-other-claim-9"], listed.Select(i => i.Name).Order());
        Assert.Contains("label_selector=atoll.dev%2Fmanaged%3Dtrue", Assert.Single(standIn.CallsTo("GET /servers?")).PathAndQuery);
    }

    [Fact]
    public async Task Reboot_posts_the_reboot_action()
    {
        var provider = Provider();
        var created = await provider.CreateAsync(Launch(OfferFor("cx22", "fsn1")), CancellationToken.None);

        await provider.RebootAsync(created.Id, CancellationToken.None);

        Assert.True(provider.CanReboot);
        Assert.Equal(1, Assert.Single(standIn.Servers).Reboots);
        Assert.Single(standIn.CallsTo($"POST /servers/{created.Id}/actions/reboot"));
    }

    [Theory]
    [InlineData("initializing", InstanceState.Pending)]
    [InlineData("starting", InstanceState.Pending)]
    [InlineData("running", InstanceState.Running)]
    [InlineData("migrating", InstanceState.Running)]
    [InlineData("rebuilding", InstanceState.Pending)]
    [InlineData("stopping", InstanceState.Terminating)]
    [InlineData("deleting", InstanceState.Terminating)]
    [InlineData("off", InstanceState.Failed)]
    [InlineData("unknown", InstanceState.Unknown)]
    public async Task Statuses_map_to_atoll_states(string status, InstanceState expected)
    {
        var server = standIn.AddServer("atoll-c1-x", "cx22", "fsn1");
        standIn.SetStatus(server.Id, status);

        var seen = await Provider().GetAsync(server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), CancellationToken.None);

        Assert.Equal((expected, status), (seen?.State, seen?.RawStatus));
    }

    private HetznerCloudProvider Provider(ProviderSpec? spec = null, string? apiKey = null, TimeProvider? time = null, ProviderHttpOptions? options = null) =>
        HetznerTestKit.Provider(standIn, http, spec, apiKey, time, options);
}
