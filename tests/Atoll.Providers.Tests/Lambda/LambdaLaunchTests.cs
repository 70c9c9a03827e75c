using System.Text.Json.Nodes;
using Atoll.Core.Fleet;

namespace Atoll.Providers.Tests.Lambda;

public sealed class LambdaLaunchTests
{
    [Fact]
    public async Task Create_sends_the_documented_launch_body_and_returns_the_new_instance_booting()
    {
        await using var h = await LambdaHarness.StartAsync();
        var offer = await h.OfferAsync("gpu_1x_a10", "us-west-1");

        var created = await h.Provider.CreateAsync(LambdaHarness.Launch("claim-1", offer), CancellationToken.None);

        var call = Assert.Single(h.Lambda.CallsTo("POST /instance-operations/launch"));
        Assert.Equal("Bearer " + h.Lambda.ApiKey, call.Authorization);
        var body = JsonNode.Parse(call.Body)!;
        Assert.Equal("us-west-1", (string?)body["region_name"]);
        Assert.Equal("gpu_1x_a10", (string?)body["instance_type_name"]);
        Assert.Equal(new string?[] { "atoll-key" }, body["ssh_key_names"]!.AsArray().Select(k => (string?)k));
        Assert.Empty(body["file_system_names"]!.AsArray());
        Assert.Equal(1, (int?)body["quantity"]);
        Assert.Equal("atoll-c1-claim-1", (string?)body["name"]);
        Assert.Equal(LambdaHarness.Bootstrap.CloudConfig, (string?)body["user_data"]);

        var instance = Assert.Single(h.Lambda.Instances);
        Assert.Equal(instance.Id, created.Id);
        Assert.Equal(LambdaHarness.Bootstrap.CloudConfig, instance.UserData);
        Assert.Equal(("atoll-c1-claim-1", InstanceState.Pending, "us-west-1", "gpu_1x_a10"), (created.Name, created.State, created.Region, created.InstanceType));
        Assert.Null(created.PublicIp);
        Assert.Equal(3, h.Lambda.Capacity("gpu_1x_a10", "us-west-1"));
    }

    [Fact]
    public async Task Create_without_an_ssh_key_is_InvalidRequest_and_never_reaches_lambda()
    {
        await using var h = await LambdaHarness.StartAsync(sshKeys: []);
        var offer = await h.OfferAsync("gpu_1x_a10", "us-west-1");

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Provider.CreateAsync(LambdaHarness.Launch("claim-1", offer), CancellationToken.None));

        Assert.Equal(ProviderErrorReason.InvalidRequest, e.Reason);
        Assert.Contains("spec.sshKeys", e.Message);
        Assert.Empty(h.Lambda.CallsTo("POST /instance-operations/launch"));
    }

    [Fact]
    public async Task Create_with_no_capacity_left_is_InsufficientCapacity_with_lambdas_message_and_suggestion()
    {
        await using var h = await LambdaHarness.StartAsync();
        var offer = await h.OfferAsync("gpu_8x_h100_sxm5", "us-east-1");
        h.Lambda.CapacityExhausted("gpu_8x_h100_sxm5", "us-east-1");

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Provider.CreateAsync(LambdaHarness.Launch("claim-1", offer), CancellationToken.None));

        Assert.Equal(ProviderErrorReason.InsufficientCapacity, e.Reason);
        Assert.Contains("Not enough capacity to fulfill launch request.", e.Message);
        Assert.Contains("Choose an instance type with more availability", e.Message);
        Assert.Contains("instance-operations/launch/insufficient-capacity", e.Message);
        Assert.Single(h.Lambda.CallsTo("POST /instance-operations/launch"));
        Assert.Empty(h.Lambda.Instances);
    }

    [Fact]
    public async Task Create_beyond_the_account_quota_is_QuotaExceeded()
    {
        await using var h = await LambdaHarness.StartAsync();
        h.Lambda.MaxInstances = 1;
        var offer = await h.OfferAsync("gpu_1x_a10", "us-west-1");
        await h.Provider.CreateAsync(LambdaHarness.Launch("claim-1", offer), CancellationToken.None);

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Provider.CreateAsync(LambdaHarness.Launch("claim-2", offer), CancellationToken.None));

        Assert.Equal(ProviderErrorReason.QuotaExceeded, e.Reason);
        Assert.Contains("Quota exceeded", e.Message);
        Assert.Single(h.Lambda.Instances);
    }

    [Fact]
    public async Task Launches_are_paced_ten_seconds_apart_by_default()
    {
        var time = new DelayRecordingTime();
        await using var h = await LambdaHarness.StartAsync(time: time, useDefaultOptions: true);
        var offer = await h.OfferAsync("gpu_1x_a10", "us-west-1");

        await h.Provider.CreateAsync(LambdaHarness.Launch("claim-1", offer), CancellationToken.None);
        await h.Provider.CreateAsync(LambdaHarness.Launch("claim-2", offer), CancellationToken.None);

        Assert.Equal(2, h.Lambda.Instances.Count);
        Assert.Contains(time.Delays, d => d > TimeSpan.FromSeconds(8) && d <= TimeSpan.FromSeconds(10));
    }
}
