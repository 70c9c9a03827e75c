using System.Text.Json;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Atoll.Core.Security;
using Atoll.Storage.State;
using Atoll.Testing;

namespace Atoll.Storage.Tests.State;

public sealed class FleetStoreTests
{
    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Apply_is_idempotent_bumps_generation_only_on_change_and_prunes_only_its_own_set(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();
        var fleet = store.Fleet;
        var a = Doc(ResourceKinds.Provider, "lambda", """{"type":"lambda"}""");
        var b = Doc(ResourceKinds.GpuPool, "h100", """{"providers":["lambda"],"replicas":1}""");

        Assert.Equal(["created", "created"], (await fleet.ApplyAsync([a, b], "git", false, false, StoreSamples.Start, default)).Select(r => r.Action));
        Assert.Equal(["unchanged", "unchanged"], (await fleet.ApplyAsync([a, b], "git", false, false, StoreSamples.Start, default)).Select(r => r.Action));
        var changed = b with { Spec = Json("""{"providers":["lambda"],"replicas":2}""") };
        Assert.Equal(["configured"], (await fleet.ApplyAsync([changed], "git", false, false, StoreSamples.Start, default)).Select(r => r.Action));
        var pool = await fleet.GetResourceAsync(ResourceKinds.GpuPool, "h100", default);
        Assert.Equal(2, pool!.Metadata.Generation);
        Assert.Equal(2, pool.Spec.GetProperty("replicas").GetInt32());

        // Another apply set's resource survives a prune of "git".
        var other = Doc(ResourceKinds.Provider, "manual", """{"type":"local"}""");
        await fleet.ApplyAsync([other], "hand", false, false, StoreSamples.Start, default);
        var dry = await fleet.ApplyAsync([a], "git", true, true, StoreSamples.Start, default);
        Assert.Contains(dry, r => r.Name == "h100" && r.Action == "pruned");
        Assert.NotNull(await fleet.GetResourceAsync(ResourceKinds.GpuPool, "h100", default));

        var pruned = await fleet.ApplyAsync([a], "git", true, false, StoreSamples.Start, default);
        Assert.Equal([("lambda", "unchanged"), ("h100", "pruned")], pruned.Select(r => (r.Name, r.Action)));
        Assert.Equal(["lambda", "manual"], (await fleet.ListResourcesAsync(ResourceKinds.Provider, default)).Select(r => r.Metadata.Name));
        Assert.Empty(await fleet.ListResourcesAsync(ResourceKinds.GpuPool, default));

        Assert.True(await fleet.SetStatusAsync(ResourceKinds.Provider, "lambda", """{"state":"Ready"}""", default));
        Assert.Equal("Ready", (await fleet.GetResourceAsync(ResourceKinds.Provider, "lambda", default))!.Status!.Value.GetProperty("state").GetString());
        Assert.True(await fleet.DeleteResourceAsync(ResourceKinds.Provider, "lambda", default));
        Assert.False(await fleet.DeleteResourceAsync(ResourceKinds.Provider, "lambda", default));
        Assert.False(await fleet.SetStatusAsync(ResourceKinds.Provider, "lambda", "{}", default));
    }

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Claim_updates_are_fenced_by_version_and_terminated_claims_are_hidden_then_purged(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();
        var fleet = store.Fleet;
        var claim = new NodeClaim("h100-abcde", "h100", ClaimPhases.Pending, StoreSamples.Start,
            Attempts: [new OfferAttempt("lambda:gpu_1x_h100:us-east-1:on-demand", 2.49m, "InsufficientCapacity", "no capacity", StoreSamples.Start)]);
        Assert.True(await fleet.InsertClaimAsync(claim, StoreSamples.Start, default));
        Assert.False(await fleet.InsertClaimAsync(claim, StoreSamples.Start, default));

        var read = (await fleet.GetClaimAsync("h100-abcde", default))!;
        Assert.Equal(1, read.Version);
        Assert.Equal("InsufficientCapacity", Assert.Single(read.Attempts!).Outcome);

        var launched = await fleet.UpdateClaimAsync(read with { Phase = ClaimPhases.Launched, InstanceId = "i-1", PricePerHour = 1.25m }, StoreSamples.Start, default);
        Assert.Equal(2, launched!.Version);
        // A writer that read version 1 loses.
        Assert.Null(await fleet.UpdateClaimAsync(read with { Phase = ClaimPhases.Terminating }, StoreSamples.Start, default));
        Assert.Equal((ClaimPhases.Launched, 1.25m), ((await fleet.GetClaimAsync("h100-abcde", default))!.Phase, (await fleet.GetClaimAsync("h100-abcde", default))!.PricePerHour));

        await fleet.InsertClaimAsync(new NodeClaim("cpu-1", "cpu", ClaimPhases.Pending, StoreSamples.Start.AddSeconds(1)), StoreSamples.Start, default);
        Assert.Equal(["h100-abcde"], (await fleet.ListClaimsAsync("h100", false, default)).Select(c => c.Name));
        Assert.Equal(2, (await fleet.ListClaimsAsync(null, false, default)).Count);

        await fleet.UpdateClaimAsync(launched with { Phase = ClaimPhases.Terminated }, StoreSamples.Start, default);
        Assert.Equal(["cpu-1"], (await fleet.ListClaimsAsync(null, false, default)).Select(c => c.Name));
        Assert.Equal(2, (await fleet.ListClaimsAsync(null, true, default)).Count);
        Assert.Equal(0, await fleet.PurgeTerminatedClaimsAsync(StoreSamples.Start, default));
        Assert.Equal(1, await fleet.PurgeTerminatedClaimsAsync(StoreSamples.Start.AddSeconds(1), default));
        Assert.Single(await fleet.ListClaimsAsync(null, true, default));
    }

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task The_first_value_written_for_a_setting_wins(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();
        Assert.Equal("abc123", await store.Fleet.GetOrAddSettingAsync("cluster-id", "abc123", default));
        Assert.Equal("abc123", await store.Fleet.GetOrAddSettingAsync("cluster-id", "zzz999", default));
    }

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task A_node_registered_with_a_claim_bound_join_token_carries_the_claim(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();
        var token = Tokens.New(Tokens.JoinPrefix);
        await store.AddJoinTokenAsync(new JoinTokenRecord("t1", Tokens.Hash(token), 1, StoreSamples.Start.AddHours(1), "h100", "claim h100-x", StoreSamples.Start, "h100-x"), default);
        Assert.Equal("h100-x", Assert.Single(await store.ListJoinTokensAsync(default)).Claim);

        var result = await store.RegisterNodeAsync(Tokens.Hash(token), StoreSamples.Node("h100-x", StoreSamples.Start), Tokens.Hash("cred"), StoreSamples.Start, StoreSamples.Start, null, default);
        Assert.Equal(RegistrationOutcome.Registered, result.Outcome);
        Assert.Equal(("h100", "h100-x"), (result.Node!.Pool, result.Node.Claim));
        Assert.Equal("h100-x", (await store.GetNodeAsync("h100-x", default))!.Claim);
    }

    private static ResourceDocument Doc(string kind, string name, string spec) =>
        new(ResourceKinds.ApiVersion, kind, new ResourceMetadata(name), Json(spec));

    private static JsonElement Json(string text) => JsonSerializer.Deserialize<JsonElement>(text);
}
