using Atoll.Core.Security;
using Atoll.Storage.State;
using Atoll.Testing;

namespace Atoll.Storage.Tests.State;

public sealed class JoinTokenTests
{
    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Join_tokens_are_listed_with_their_fields_and_deleted_by_id(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();
        var first = StoreSamples.JoinToken("first", 3, StoreSamples.Start.AddHours(2), pool: "a100s");
        var second = StoreSamples.JoinToken("second", 1, StoreSamples.Start.AddMinutes(30), pool: null) with
        {
            Description = null,
            CreatedAt = StoreSamples.Start.AddSeconds(1),
        };
        await store.AddJoinTokenAsync(second, default);
        await store.AddJoinTokenAsync(first, default);

        Assert.Equal([first, second], await store.ListJoinTokensAsync(default));

        Assert.True(await store.DeleteJoinTokenAsync(first.Id, default));
        Assert.False(await store.DeleteJoinTokenAsync(first.Id, default));
        Assert.Equal([second], await store.ListJoinTokensAsync(default));
    }

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Join_token_is_consumed_once_per_use_and_refused_when_used_up(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();
        var token = await StoreSamples.AddJoinTokenAsync(store, uses: 2, pool: "a100s");
        var now = StoreSamples.Start;

        var a = await StoreSamples.RegisterAsync(store, token, "node-a", "cred-a", now);
        Assert.Equal(RegistrationOutcome.Registered, a.Outcome);
        Assert.Equal(1, await StoreSamples.UsesLeftAsync(store, token));

        var b = await StoreSamples.RegisterAsync(store, token, "node-b", "cred-b", now);
        Assert.Equal(RegistrationOutcome.Registered, b.Outcome);
        Assert.Equal(0, await StoreSamples.UsesLeftAsync(store, token));

        var c = await StoreSamples.RegisterAsync(store, token, "node-c", "cred-c", now);
        Assert.Equal(new RegistrationResult(RegistrationOutcome.UsedUpToken), c);
        Assert.Null(await store.GetNodeAsync("node-c", default));
        Assert.Null(await store.FindNodeByCredentialAsync(Tokens.Hash("cred-c"), default));
    }

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Registered_node_is_stored_in_the_tokens_pool_with_its_credential(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();
        var token = await StoreSamples.AddJoinTokenAsync(store, uses: 1, pool: "a100s");

        var result = await StoreSamples.RegisterAsync(store, token, "node-a", "cred-a", StoreSamples.Start);

        var sent = StoreSamples.Node("node-a", StoreSamples.Start);
        var stored = await store.GetNodeAsync("node-a", default);
        Assert.NotNull(stored);
        Assert.Equal("a100s", stored.Pool);
        Assert.Equal(sent.Labels, stored.Labels);
        Assert.Equal(
            (sent.Provider, sent.Region, sent.Location, sent.InstanceType, sent.CapacityType, sent.AgentVersion, StoreSamples.Start, StoreSamples.Start),
            (stored.Provider, stored.Region, stored.Location, stored.InstanceType, stored.CapacityType, stored.AgentVersion, stored.RegisteredAt, stored.LastHeartbeatAt));
        Assert.Equal(sent.Gpu.Reason, stored.Gpu.Reason);
        Assert.Equal("node-a", result.Node?.Name);
        Assert.Equal("a100s", result.Node?.Pool);
        Assert.Equal("node-a", await store.FindNodeByCredentialAsync(Tokens.Hash("cred-a"), default));
    }

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Expired_join_token_is_refused_and_not_spent(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();
        var token = await StoreSamples.AddJoinTokenAsync(store, uses: 5);
        var expiry = StoreSamples.Start.AddHours(1);

        var atExpiry = await StoreSamples.RegisterAsync(store, token, "node-a", "cred-a", expiry);
        var after = await StoreSamples.RegisterAsync(store, token, "node-a", "cred-a", expiry.AddDays(1));

        Assert.Equal(RegistrationOutcome.ExpiredToken, atExpiry.Outcome);
        Assert.Equal(RegistrationOutcome.ExpiredToken, after.Outcome);
        Assert.Equal(5, await StoreSamples.UsesLeftAsync(store, token));
        Assert.Empty(await store.ListNodesAsync(default));
    }

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Unknown_join_token_is_refused(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();
        var token = await StoreSamples.AddJoinTokenAsync(store, uses: 5);

        var result = await StoreSamples.RegisterAsync(store, token + "x", "node-a", "cred-a", StoreSamples.Start);

        Assert.Equal(RegistrationOutcome.UnknownToken, result.Outcome);
        Assert.Null(result.Node);
        Assert.Empty(await store.ListNodesAsync(default));
    }
}
