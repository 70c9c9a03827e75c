using Atoll.Core.Security;
using Atoll.Storage.State;
using Atoll.Testing;

namespace Atoll.Storage.Tests.State;

public sealed class NodeRegistrationTests
{
    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Name_of_a_live_node_is_refused_and_the_token_is_not_spent(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();
        var token = await StoreSamples.AddJoinTokenAsync(store, uses: 5);
        await StoreSamples.RegisterAsync(store, token, "node-a", "cred-1", StoreSamples.Start);

        // Last heartbeat exactly NodeTimeout ago still counts as alive.
        var now = StoreSamples.Start + StoreSamples.NodeTimeout;
        var second = await StoreSamples.RegisterAsync(store, token, "node-a", "cred-2", now, provider: "impostor");

        Assert.Equal(new RegistrationResult(RegistrationOutcome.NameInUse), second);
        Assert.Equal(4, await StoreSamples.UsesLeftAsync(store, token));
        Assert.Equal("node-a", await store.FindNodeByCredentialAsync(Tokens.Hash("cred-1"), default));
        Assert.Null(await store.FindNodeByCredentialAsync(Tokens.Hash("cred-2"), default));
        Assert.Equal("lambda", (await store.GetNodeAsync("node-a", default))?.Provider);
    }

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Re_registering_a_dead_node_replaces_it_and_its_credential(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();
        var token = await StoreSamples.AddJoinTokenAsync(store, uses: 5);
        await StoreSamples.RegisterAsync(store, token, "node-a", "cred-1", StoreSamples.Start);

        var later = StoreSamples.Start + StoreSamples.NodeTimeout + TimeSpan.FromMilliseconds(1);
        var again = await StoreSamples.RegisterAsync(store, token, "node-a", "cred-2", later, provider: "runpod");

        Assert.Equal(RegistrationOutcome.Registered, again.Outcome);
        Assert.Null(await store.FindNodeByCredentialAsync(Tokens.Hash("cred-1"), default));
        Assert.Equal("node-a", await store.FindNodeByCredentialAsync(Tokens.Hash("cred-2"), default));
        var node = Assert.Single(await store.ListNodesAsync(default));
        Assert.Equal(("runpod", later, later), (node.Provider, node.RegisteredAt, node.LastHeartbeatAt));
        Assert.Equal(3, await StoreSamples.UsesLeftAsync(store, token));
    }

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task A_retry_after_a_lost_answer_with_the_same_key_gets_a_new_credential_and_spends_no_use(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();
        var single = await StoreSamples.AddJoinTokenAsync(store, uses: 1);
        var several = await StoreSamples.AddJoinTokenAsync(store, uses: 5);
        Assert.Equal(RegistrationOutcome.Registered,
            (await StoreSamples.RegisterAsync(store, single, "node-a", "cred-1", StoreSamples.Start, registrationKey: Key1)).Outcome);
        Assert.Equal(RegistrationOutcome.Registered,
            (await StoreSamples.RegisterAsync(store, several, "node-b", "cred-b1", StoreSamples.Start, registrationKey: Key2)).Outcome);

        // The answers were lost; the agents retry one second later, their nodes still alive, the single use spent.
        var later = StoreSamples.Start.AddSeconds(1);
        var a = await StoreSamples.RegisterAsync(store, single, "node-a", "cred-2", later, provider: "lambda-retry", registrationKey: Key1);
        var b = await StoreSamples.RegisterAsync(store, several, "node-b", "cred-b2", later, registrationKey: Key2);

        Assert.Equal(RegistrationOutcome.Resumed, a.Outcome);
        Assert.Equal(RegistrationOutcome.Resumed, b.Outcome);
        Assert.Equal(("lambda-retry", StoreSamples.Start, later), (a.Node!.Provider, a.Node.RegisteredAt, a.Node.LastHeartbeatAt));
        Assert.Null(await store.FindNodeByCredentialAsync(Tokens.Hash("cred-1"), default));
        Assert.Equal("node-a", await store.FindNodeByCredentialAsync(Tokens.Hash("cred-2"), default));
        Assert.Null(await store.FindNodeByCredentialAsync(Tokens.Hash("cred-b1"), default));
        Assert.Equal("node-b", await store.FindNodeByCredentialAsync(Tokens.Hash("cred-b2"), default));
        Assert.Equal(0, await StoreSamples.UsesLeftAsync(store, single));
        Assert.Equal(4, await StoreSamples.UsesLeftAsync(store, several));
        Assert.Equal(2, (await store.ListNodesAsync(default)).Count);
    }

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task A_retry_without_the_key_its_token_or_in_time_is_refused_as_before(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();
        var token = await StoreSamples.AddJoinTokenAsync(store, uses: 1); // valid for an hour
        var other = await StoreSamples.AddJoinTokenAsync(store, uses: 1);
        await StoreSamples.RegisterAsync(store, token, "node-a", "cred-1", StoreSamples.Start, registrationKey: Key1);
        var later = StoreSamples.Start.AddSeconds(1);

        Assert.Equal(RegistrationOutcome.UsedUpToken,
            (await StoreSamples.RegisterAsync(store, token, "node-a", "cred-x", later, registrationKey: Key2)).Outcome);
        Assert.Equal(RegistrationOutcome.UsedUpToken,
            (await StoreSamples.RegisterAsync(store, token, "node-a", "cred-x", later)).Outcome);
        // The key is bound to the token that registered the node: another token with it is a new registration.
        Assert.Equal(RegistrationOutcome.NameInUse,
            (await StoreSamples.RegisterAsync(store, other, "node-a", "cred-x", later, registrationKey: Key1)).Outcome);
        // And to the node's name.
        Assert.Equal(RegistrationOutcome.UsedUpToken,
            (await StoreSamples.RegisterAsync(store, token, "node-z", "cred-x", later, registrationKey: Key1)).Outcome);
        Assert.Equal(RegistrationOutcome.ExpiredToken,
            (await StoreSamples.RegisterAsync(store, token, "node-a", "cred-x", StoreSamples.Start.AddHours(2), registrationKey: Key1)).Outcome);

        Assert.Equal("node-a", await store.FindNodeByCredentialAsync(Tokens.Hash("cred-1"), default));
        Assert.Null(await store.FindNodeByCredentialAsync(Tokens.Hash("cred-x"), default));
        Assert.Equal(1, await StoreSamples.UsesLeftAsync(store, other));
    }

    private const string Key1 = "3f1c6a0b9d8e7f6a5b4c3d2e1f0a9b8c", Key2 = "0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d";

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Only_one_of_concurrent_registrations_wins_a_single_use_token(string engine)
    {
        const int Tokens = 6, Contenders = 6;
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var serverA = await db.OpenMigratedStoreAsync();
        await using var serverB = await db.OpenMigratedStoreAsync();
        var tokens = new List<string>();
        for (var t = 0; t < Tokens; t++)
        {
            tokens.Add(await StoreSamples.AddJoinTokenAsync(serverA, uses: 1));
        }

        // Many races at once, released together, so that check-then-spend windows really overlap.
        using var start = new Barrier(Tokens * Contenders);
        var results = await Task.WhenAll(Enumerable.Range(0, Tokens * Contenders).Select(i => Task.Factory.StartNew(async () =>
        {
            start.SignalAndWait(TimeSpan.FromSeconds(30));
            var store = i % 2 == 0 ? serverA : serverB;
            var result = await StoreSamples.RegisterAsync(store, tokens[i % Tokens], $"node-{i}", $"cred-{i}", StoreSamples.Start);
            return (Token: i % Tokens, Result: result);
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap()));

        foreach (var race in results.GroupBy(r => r.Token))
        {
            Assert.Single(race, r => r.Result.Outcome == RegistrationOutcome.Registered);
            Assert.All(race.Where(r => r.Result.Outcome != RegistrationOutcome.Registered),
                r => Assert.Equal(RegistrationOutcome.UsedUpToken, r.Result.Outcome));
            Assert.Equal(0, await StoreSamples.UsesLeftAsync(serverB, tokens[race.Key]));
        }
        Assert.Equal(Tokens, (await serverA.ListNodesAsync(default)).Count);
    }

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Only_one_of_concurrent_registrations_of_one_name_wins_and_the_other_token_is_kept(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var serverA = await db.OpenMigratedStoreAsync();
        await using var serverB = db.OpenStore();
        var tokens = new[] { await StoreSamples.AddJoinTokenAsync(serverA, uses: 1), await StoreSamples.AddJoinTokenAsync(serverA, uses: 1) };

        var results = await Task.WhenAll(Enumerable.Range(0, 2).Select(i => Task.Run(() =>
            StoreSamples.RegisterAsync(i == 0 ? serverA : serverB, tokens[i], "node-a", $"cred-{i}", StoreSamples.Start))));

        Assert.Equal(
            [RegistrationOutcome.Registered, RegistrationOutcome.NameInUse],
            results.Select(r => r.Outcome).Order());
        var loser = Array.FindIndex(results, r => r.Outcome == RegistrationOutcome.NameInUse);
        Assert.Equal(1, await StoreSamples.UsesLeftAsync(serverA, tokens[loser]));
        Assert.Null(await serverA.FindNodeByCredentialAsync(Tokens.Hash($"cred-{loser}"), default));
        Assert.Equal("node-a", await serverA.FindNodeByCredentialAsync(Tokens.Hash($"cred-{1 - loser}"), default));
    }
}
