using Atoll.Core.Fleet;

namespace Atoll.Providers.Tests.Lambda;

public sealed class LambdaInstanceTests
{
    [Fact]
    public async Task Get_reports_a_new_instance_booting_without_ip_then_active_then_with_its_ip()
    {
        await using var h = await LambdaHarness.StartAsync();
        h.Lambda.BootPolls = 1;
        h.Lambda.IpPolls = 2;
        var created = await h.Provider.CreateAsync(LambdaHarness.Launch("claim-1", await h.OfferAsync("gpu_1x_a10", "us-west-1")), CancellationToken.None);

        var booting = await h.Provider.GetAsync(created.Id, CancellationToken.None);
        var active = await h.Provider.GetAsync(created.Id, CancellationToken.None);
        var withIp = await h.Provider.GetAsync(created.Id, CancellationToken.None);

        Assert.Equal((InstanceState.Pending, "booting", null), (booting!.State, booting.RawStatus, booting.PublicIp));
        Assert.Equal((InstanceState.Running, "active", null), (active!.State, active.RawStatus, active.PublicIp));
        Assert.Equal(InstanceState.Running, withIp!.State);
        Assert.Equal(h.Lambda.Instances.Single().Ip, withIp.PublicIp);
        Assert.NotNull(withIp.PrivateIp);
        Assert.Equal(("atoll-c1-claim-1", "us-west-1", "gpu_1x_a10", "on-demand"), (withIp.Name, withIp.Region, withIp.InstanceType, withIp.CapacityType));
    }

    [Fact]
    public async Task Get_of_an_instance_lambda_does_not_know_is_null()
    {
        await using var h = await LambdaHarness.StartAsync();

        Assert.Null(await h.Provider.GetAsync("0920582c7ff041399e34823a0be62549", CancellationToken.None));
    }

    [Fact]
    public async Task Delete_terminates_the_instance_frees_its_capacity_and_the_instance_then_goes_away()
    {
        await using var h = await LambdaHarness.StartAsync();
        var created = await h.Provider.CreateAsync(LambdaHarness.Launch("claim-1", await h.OfferAsync("gpu_8x_h100_sxm5", "us-east-1")), CancellationToken.None);
        Assert.Equal(0, h.Lambda.Capacity("gpu_8x_h100_sxm5", "us-east-1"));

        await h.Provider.DeleteAsync(created.Id, CancellationToken.None);

        var call = Assert.Single(h.Lambda.CallsTo("POST /instance-operations/terminate"));
        Assert.Equal($$"""{"instance_ids":["{{created.Id}}"]}""", call.Body);
        Assert.Equal(1, h.Lambda.Capacity("gpu_8x_h100_sxm5", "us-east-1"));
        Assert.Equal(InstanceState.Terminating, (await h.Provider.GetAsync(created.Id, CancellationToken.None))!.State);
        Assert.Null(await h.Provider.GetAsync(created.Id, CancellationToken.None));
    }

    [Fact]
    public async Task Delete_of_an_instance_that_is_already_gone_succeeds()
    {
        await using var h = await LambdaHarness.StartAsync();

        await h.Provider.DeleteAsync("0920582c7ff041399e34823a0be62549", CancellationToken.None);

        Assert.Single(h.Lambda.CallsTo("POST /instance-operations/terminate"));
    }

    [Fact]
    public async Task List_returns_only_instances_named_by_atoll()
    {
        await using var h = await LambdaHarness.StartAsync();
        await h.Provider.CreateAsync(LambdaHarness.Launch("claim-1", await h.OfferAsync("gpu_1x_a10", "us-west-1")), CancellationToken.None);
        var orphan = h.Lambda.AddInstance(InstanceNames.For("other-cluster", "claim-9"), "gpu_1x_a10", "us-east-1");
        h.Lambda.AddInstance("jupyter-notebook", "gpu_1x_a10", "us-east-1");
        h.Lambda.AddInstance("", "gpu_1x_h100_pcie", "us-west-3");

        var listed = await h.Provider.ListAsync(CancellationToken.None);

        Assert.Equal(new[] { "atoll-c1-claim-1", orphan.Name }, listed.Select(i => i.Name).Order());
        Assert.Equal(InstanceState.Running, Assert.Single(listed, i => i.Id == orphan.Id).State);
    }

    [Fact]
    public async Task Reboot_restarts_the_instance_through_lambdas_restart_operation()
    {
        await using var h = await LambdaHarness.StartAsync();
        var created = await h.Provider.CreateAsync(LambdaHarness.Launch("claim-1", await h.OfferAsync("gpu_1x_a10", "us-west-1")), CancellationToken.None);

        Assert.True(h.Provider.CanReboot);
        await h.Provider.RebootAsync(created.Id, CancellationToken.None);

        Assert.Equal(1, h.Lambda.Instances.Single().Restarts);
        Assert.Equal($$"""{"instance_ids":["{{created.Id}}"]}""", Assert.Single(h.Lambda.CallsTo("POST /instance-operations/restart")).Body);
    }

    [Theory]
    [InlineData("unhealthy", InstanceState.Failed)]
    [InlineData("preempted", InstanceState.Preempted)]
    [InlineData("terminated", InstanceState.Terminated)]
    [InlineData("something-new", InstanceState.Unknown)]
    public async Task Lambda_statuses_map_to_instance_states(string status, InstanceState state)
    {
        await using var h = await LambdaHarness.StartAsync();
        var instance = h.Lambda.AddInstance("atoll-c1-claim-1", "gpu_1x_a10", "us-west-1", status);

        var got = await h.Provider.GetAsync(instance.Id, CancellationToken.None);

        Assert.Equal((state, status), (got!.State, got.RawStatus));
    }
}
