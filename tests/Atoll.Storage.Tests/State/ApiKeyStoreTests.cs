using Atoll.Core.Security;
using Atoll.Storage.State;
using Atoll.Testing;

namespace Atoll.Storage.Tests.State;

public sealed class ApiKeyStoreTests
{
    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Api_keys_are_found_by_hash_listed_by_name_and_deleted_by_name_or_id(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();
        var keys = store.ApiKeys;
        var secret = Tokens.New("sk-atoll-");
        await keys.AddAsync(new ApiKeyRecord("k2", "zeta", Tokens.Hash(secret), "sk-atoll-abc", 60, null, StoreSamples.Start), default);
        await keys.AddAsync(new ApiKeyRecord("k1", "alpha", Tokens.Hash("other"), "sk-atoll-def", null, 1000, StoreSamples.Start, MaxConcurrent: 4), default);

        var found = await keys.FindByHashAsync(Tokens.Hash(secret), default);
        Assert.Equal(("zeta", 60, (int?)null), (found!.Name, found.RequestsPerMinute, found.TokensPerMinute));
        Assert.Null(await keys.FindByHashAsync(secret, default));
        Assert.Equal(["alpha", "zeta"], (await keys.ListAsync(default)).Select(k => k.Name));
        Assert.Equal([4, null], (await keys.ListAsync(default)).Select(k => k.MaxConcurrent));
        Assert.Null(found.MaxConcurrent);

        var duplicate = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            keys.AddAsync(new ApiKeyRecord("k3", "zeta", Tokens.Hash("x"), "p", null, null, StoreSamples.Start), default));
        Assert.Contains("'zeta' already exists", duplicate.Message);

        Assert.True(await keys.DeleteAsync("zeta", default));
        Assert.True(await keys.DeleteAsync("k1", default));
        Assert.False(await keys.DeleteAsync("zeta", default));
        Assert.Empty(await keys.ListAsync(default));
    }
}
