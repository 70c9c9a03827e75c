using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Atoll.Core.Contracts;
using Atoll.Core.Fleet;

namespace Atoll.Server.Tests.Fleet;

public sealed class FleetLifecycleTests
{
    [Fact]
    public async Task A_capacity_error_moves_on_to_the_next_offer_at_once_and_the_offer_is_skipped_for_a_while()
    {
        await using var fleet = await FleetHost.StartAsync("a", "b");
        var cheap = fleet.Providers["a"].AddOffer("h100-spot", 1.00m, CapacityTypes.Spot);
        fleet.Providers["b"].AddOffer("h100-od", 2.50m);
        fleet.Providers["a"].Failing[cheap.Key] = ProviderErrorReason.InsufficientCapacity;
        await fleet.ApplyOkAsync(FleetHost.Fleet(1, "a", "b"));

        await fleet.PassAsync();
        var claim = Assert.Single(await fleet.ClaimsAsync());
        Assert.Equal((ClaimPhases.Launched, "b", "h100-od"), (claim.Phase, claim.Provider, claim.InstanceType));
        Assert.Equal([(cheap.Key, "InsufficientCapacity"), ("b:h100-od:r1:on-demand", "Launched")], claim.Attempts!.Select(a => (a.OfferKey, a.Outcome)));
        Assert.Contains("scripted InsufficientCapacity", claim.Attempts![0].Message, StringComparison.Ordinal);
        Assert.NotNull(claim.JoinTokenId);

        // A second node within the 3 minutes does not knock on the same door again.
        fleet.Providers["a"].Failing.Clear();
        await fleet.ApplyOkAsync(FleetHost.Fleet(2, "a", "b"));
        await fleet.PassAsync();
        Assert.Single(fleet.Providers["a"].Launches);
        Assert.All(await fleet.ClaimsAsync(), c => Assert.Equal("b", c.Provider));

        // After the cache entry expires, spot is preferred again for the next node.
        fleet.Host.Time.Advance(TimeSpan.FromMinutes(3) + TimeSpan.FromSeconds(1));
        await fleet.ApplyOkAsync(FleetHost.Fleet(3, "a", "b"));
        await fleet.PassAsync();
        Assert.Single(await fleet.ClaimsAsync(), c => c.Provider == "a" && c.CapacityType == CapacityTypes.Spot);
    }

    [Fact]
    public async Task Registration_timeout_terminates_the_instance_and_launches_a_replacement()
    {
        await using var fleet = await FleetHost.StartAsync("a");
        fleet.Providers["a"].AddOffer("h100", 2.00m);
        await fleet.ApplyOkAsync(FleetHost.Fleet(1, "a"));
        await fleet.PassAsync();
        var first = Assert.Single(await fleet.ClaimsAsync());
        Assert.Equal(ClaimPhases.Launched, first.Phase);

        fleet.Host.Time.Advance(TimeSpan.FromMinutes(20) - TimeSpan.FromSeconds(1));
        await fleet.PassAsync();
        Assert.Equal(ClaimPhases.Launched, (await fleet.Store.Fleet.GetClaimAsync(first.Name, default))!.Phase);

        fleet.Host.Time.Advance(TimeSpan.FromSeconds(2));
        await fleet.PassAsync();
        var ended = (await fleet.Store.Fleet.GetClaimAsync(first.Name, default))!;
        Assert.Equal(ClaimPhases.Terminated, ended.Phase);
        Assert.StartsWith("registration timeout", ended.Reason, StringComparison.Ordinal);
        Assert.Contains(first.InstanceId!, fleet.Providers["a"].Deleted);
        // The claim's unused join token is gone with it.
        Assert.DoesNotContain(await fleet.Store.ListJoinTokensAsync(default), t => t.Id == first.JoinTokenId);
        var replacement = Assert.Single(await fleet.ClaimsAsync());
        Assert.NotEqual(first.Name, replacement.Name);
        Assert.Equal(ClaimPhases.Launched, replacement.Phase);
    }

    [Fact]
    public async Task A_node_that_joins_with_the_claim_token_registers_then_initializes_and_a_vanished_instance_is_replaced()
    {
        await using var fleet = await FleetHost.StartAsync("a");
        fleet.Providers["a"].AddOffer("h100", 2.00m, CapacityTypes.Spot);
        await fleet.ApplyOkAsync(FleetHost.Fleet(1, "a"));
        await fleet.PassAsync();
        var claim = Assert.Single(await fleet.ClaimsAsync());
        var launch = Assert.Single(fleet.Providers["a"].Launches);
        var args = launch.Bootstrap.AgentCommand.ToList();
        var token = args[args.IndexOf("--join-token") + 1];
        Assert.Equal(claim.Name, args[args.IndexOf("--name") + 1]);
        Assert.Contains(token, launch.Bootstrap.CloudConfig, StringComparison.Ordinal);

        // The agent registers with that token: the node carries the claim, the claim moves on.
        var registered = await fleet.Host.RegisterAsync(token, ServerHost.Registration(claim.Name, ServerHost.Gpus(1)));
        Assert.True(registered.IsSuccessStatusCode, await registered.Content.ReadAsStringAsync());
        Assert.Equal(claim.Name, (await fleet.Host.GetNodeAsync(claim.Name)).Claim);
        await fleet.PassAsync();
        Assert.Equal(ClaimPhases.Initialized, (await fleet.Store.Fleet.GetClaimAsync(claim.Name, default))!.Phase);
        // The one-time token cannot join a second machine.
        Assert.Equal(HttpStatusCode.Unauthorized, (await fleet.Host.RegisterAsync(token, ServerHost.Registration("intruder"))).StatusCode);

        // The spot instance vanishes: the claim ends, the node is removed, a new claim is launched.
        fleet.Providers["a"].Instances.Clear();
        fleet.Host.Time.Advance(TimeSpan.FromSeconds(16));
        await fleet.PassAsync();
        var ended = (await fleet.Store.Fleet.GetClaimAsync(claim.Name, default))!;
        Assert.Equal(ClaimPhases.Terminated, ended.Phase);
        Assert.Contains("disappeared", ended.Reason, StringComparison.Ordinal);
        Assert.Null(await fleet.Store.GetNodeAsync(claim.Name, default));
        Assert.Single(await fleet.ClaimsAsync(), c => c.Phase == ClaimPhases.Launched);
    }

    [Fact]
    public async Task Orphan_sweep_terminates_only_this_clusters_instances_that_no_claim_owns_and_scale_down_removes_the_dearest()
    {
        await using var fleet = await FleetHost.StartAsync("a");
        var provider = fleet.Providers["a"];
        provider.AddOffer("h100-spot", 1.00m, CapacityTypes.Spot);
        var clusterId = fleet.Host.Services.GetService(typeof(Atoll.Server.Fleet.ProviderRegistry)) is Atoll.Server.Fleet.ProviderRegistry r ? r.ClusterId : "";
        provider.Instances["leak"] = new CloudInstance("leak", InstanceNames.For(clusterId, "h100-gone1"), InstanceState.Running, "running", null, null, "r1", "h100", "spot");
        provider.Instances["other"] = new CloudInstance("other", InstanceNames.For("zzzzzz", "h100-x"), InstanceState.Running, "running", null, null, "r1", "h100", "spot");
        await fleet.ApplyOkAsync(FleetHost.Fleet(1, "a"));
        await fleet.PassAsync();
        fleet.Host.Time.Advance(TimeSpan.FromSeconds(5));
        await fleet.ApplyOkAsync(FleetHost.Fleet(2, "a"));
        await fleet.PassAsync();
        Assert.Contains("leak", provider.Deleted);
        Assert.DoesNotContain("other", provider.Deleted);
        Assert.Equal(2, (await fleet.ClaimsAsync()).Count(c => c.Phase == ClaimPhases.Launched));

        // Scale down to 1: the newest not-yet-serving claim goes first.
        var newest = (await fleet.ClaimsAsync()).OrderBy(c => c.CreatedAt).Last();
        await fleet.ApplyOkAsync(FleetHost.Fleet(1, "a"));
        await fleet.PassAsync();
        var left = Assert.Single(await fleet.ClaimsAsync());
        Assert.NotEqual(newest.Name, left.Name);
        Assert.Contains(newest.InstanceId!, provider.Deleted);
    }

    [Fact]
    public async Task Apply_rejects_bad_specs_with_field_paths_and_a_provider_with_bad_credentials_is_shown_without_stopping_the_rest()
    {
        await using var fleet = await FleetHost.StartAsync("a", "b");
        fleet.Providers["a"].AddOffer("h100", 2.00m);
        fleet.Providers["b"].OffersFail = ProviderErrorReason.Unauthorized;

        using var bad = await fleet.ApplyAsync("""
            apiVersion: atoll.dev/v1alpha1
            kind: Provider
            metadata: {name: cloud}
            spec:
              type: lambda
              credentials: {apiKey: {env: ATOLL_TEST_SURELY_UNSET_KEY}}
            ---
            apiVersion: atoll.dev/v1alpha1
            kind: GpuPool
            metadata: {name: p}
            spec:
              providers: [nowhere]
              requirements: {gpuModels: [H1000]}
              min: 3
              max: 2
            """);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").EnumerateArray()
            .Select(e => (Index: e.GetProperty("index").GetInt32(), Path: e.GetProperty("path").GetString()!, Message: e.GetProperty("message").GetString()!)).ToList();
        Assert.Contains(errors, e => e.Index == 0 && e.Path == "spec.credentials.apiKey" && e.Message.Contains("ATOLL_TEST_SURELY_UNSET_KEY", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Index == 1 && e.Path == "spec.providers[0]" && e.Message.Contains("nowhere", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Index == 1 && e.Path == "spec.requirements.gpuModels[0]" && e.Message.Contains("H100", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Index == 1 && e.Path.StartsWith("spec.m", StringComparison.Ordinal) && e.Message.Contains('3'));
        // Nothing of a rejected apply is stored.
        Assert.Empty(await fleet.Store.Fleet.ListResourcesAsync(null, default));

        await fleet.ApplyOkAsync(FleetHost.Fleet(1, "a", "b"));
        await fleet.PassAsync();
        Assert.Equal("a", Assert.Single(await fleet.ClaimsAsync()).Provider);
        using var admin = fleet.Host.Admin();
        var providers = await admin.GetFromJsonAsync<JsonElement>("/api/v1/resources/providers");
        var states = providers.GetProperty("items").EnumerateArray().ToDictionary(
            p => p.GetProperty("metadata").GetProperty("name").GetString()!, p => p.GetProperty("status").GetProperty("state").GetString());
        Assert.Equal("Ready", states["a"]);
        Assert.Equal("Unauthorized", states["b"]);

        var cost = await admin.GetFromJsonAsync<CostReport>("/api/v1/cost");
        Assert.Equal((1, 2.00m), (cost!.Total.Nodes, cost.Total.PricePerHour));
    }
}
