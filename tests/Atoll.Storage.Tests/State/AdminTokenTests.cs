using Atoll.Core.Security;
using Atoll.Testing;

namespace Atoll.Storage.Tests.State;

public sealed class AdminTokenTests
{
    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Admin_token_is_recognised_by_its_hash_and_nothing_else(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = await db.OpenMigratedStoreAsync();
        var token = Tokens.New(Tokens.AdminPrefix);

        Assert.False(await store.HasAdminTokenAsync(default));
        await store.AddAdminTokenAsync(Tokens.NewId(), Tokens.Hash(token), StoreSamples.Start, default);

        Assert.True(await store.HasAdminTokenAsync(default));
        Assert.True(await store.IsAdminTokenAsync(Tokens.Hash(token), default));
        Assert.False(await store.IsAdminTokenAsync(token, default));
        Assert.False(await store.IsAdminTokenAsync(Tokens.Hash(Tokens.New(Tokens.AdminPrefix)), default));
    }
}
