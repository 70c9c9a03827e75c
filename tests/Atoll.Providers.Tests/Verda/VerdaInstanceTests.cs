using Atoll.Core.Fleet;
using Atoll.Core.Resources;

namespace Atoll.Providers.Tests.Verda;

public sealed class VerdaInstanceTests
{
    [Fact]
    public async Task Get_reports_a_new_instance_pending_without_ip_then_running_with_its_ip()
    {
        await using var h = await VerdaHarness.StartAsync(setup: v => (v.BootPolls, v.IpPolls) = (2, 3));
        var created = await h.CreateAsync("claim-1");

        var seen = new List<CloudInstance>();
        for (var i = 0; i < 4; i++)
        {
            seen.Add((await h.Provider.GetAsync(created.Id, CancellationToken.None))!);
        }

        Assert.Equal(new[] { "ordered", "provisioning", "running", "running" }, seen.Select(s => s.RawStatus));
        Assert.Equal(new[] { InstanceState.Pending, InstanceState.Pending, InstanceState.Running, InstanceState.Running }, seen.Select(s => s.State));
        Assert.All(seen.Take(3), s => Assert.Null(s.PublicIp));
        Assert.Equal(h.Verda.Instances.Single().Ip, seen[3].PublicIp);
        Assert.Equal(("atoll-c1-claim-1", "FIN-01", "1H100.80S.30V", "on-demand"), (seen[3].Name, seen[3].Region, seen[3].InstanceType, seen[3].CapacityType));
    }

    [Fact]
    public async Task A_preempted_spot_instance_reads_as_Preempted_and_one_that_vanished_as_null()
    {
        await using var h = await VerdaHarness.StartAsync();
        var offline = await h.CreateAsync("claim-1", "spot");
        var vanished = await h.CreateAsync("claim-2", "spot");

        h.Verda.Preempt(offline.Id);
        h.Verda.Preempt(vanished.Id, vanish: true);

        var got = await h.Provider.GetAsync(offline.Id, CancellationToken.None);
        Assert.Equal((InstanceState.Preempted, "offline", "spot"), (got!.State, got.RawStatus, got.CapacityType));
        Assert.Null(await h.Provider.GetAsync(vanished.Id, CancellationToken.None));
        Assert.Equal(2, h.Verda.Capacity("1H100.80S.30V", "FIN-01", spot: true));
    }

    [Theory]
    [InlineData("offline", InstanceState.Failed)]
    [InlineData("error", InstanceState.Failed)]
    [InlineData("hibernating", InstanceState.Terminating)]
    [InlineData("restoring", InstanceState.Pending)]
    [InlineData("something-new", InstanceState.Unknown)]
    public async Task Verda_statuses_of_an_on_demand_instance_map_to_instance_states(string status, InstanceState state)
    {
        await using var h = await VerdaHarness.StartAsync();
        var instance = h.Verda.AddInstance("atoll-c1-claim-1", "1H100.80S.30V", "FIN-01", status: status);

        var got = await h.Provider.GetAsync(instance.Id, CancellationToken.None);

        Assert.Equal((state, status), (got!.State, got.RawStatus));
    }

    [Fact]
    public async Task Delete_sends_the_delete_action_and_frees_the_capacity()
    {
        await using var h = await VerdaHarness.StartAsync();
        var created = await h.CreateAsync("claim-1");

        await h.Provider.DeleteAsync(created.Id, CancellationToken.None);

        Assert.Equal($$"""{"id":["{{created.Id}}"],"action":"delete"}""", Assert.Single(h.Verda.CallsTo("PUT /instances")).Body);
        Assert.Empty(h.Verda.Instances);
        Assert.Equal(2, h.Verda.Capacity("1H100.80S.30V", "FIN-01", spot: false));
        Assert.Null(await h.Provider.GetAsync(created.Id, CancellationToken.None));
    }

    [Fact]
    public async Task Delete_of_an_instance_that_is_already_gone_succeeds()
    {
        await using var h = await VerdaHarness.StartAsync();

        await h.Provider.DeleteAsync(Guid.NewGuid().ToString(), CancellationToken.None);

        Assert.Single(h.Verda.CallsTo("PUT /instances"));
    }

    [Fact]
    public async Task List_returns_only_instances_with_atoll_hostnames()
    {
        await using var h = await VerdaHarness.StartAsync();
        var mine = await h.CreateAsync("claim-1");
        var orphan = h.Verda.AddInstance(InstanceNames.For("other-cluster", "claim-7"), "1A100.22V", "ICE-01", isSpot: true);
        h.Verda.AddInstance("training-box", "1A100.22V", "ICE-01");

        var listed = await h.Provider.ListAsync(CancellationToken.None);

        Assert.Equal(new[] { mine.Id, orphan.Id }.Order(), listed.Select(i => i.Id).Order());
        Assert.Equal(("spot", InstanceState.Running), (listed.Single(i => i.Id == orphan.Id).CapacityType, listed.Single(i => i.Id == orphan.Id).State));
    }

    [Fact]
    public async Task Reboot_is_not_supported()
    {
        await using var h = await VerdaHarness.StartAsync();

        Assert.False(h.Provider.CanReboot);
        await Assert.ThrowsAsync<NotSupportedException>(() => h.Provider.RebootAsync("any", CancellationToken.None));
        Assert.Equal(ProviderTypes.Verda, h.Provider.Type);
    }
}
