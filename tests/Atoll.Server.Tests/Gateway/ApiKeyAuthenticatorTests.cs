using Atoll.Core.Security;
using Atoll.Server.Api;
using Atoll.Server.Gateway;
using Atoll.Storage.State;
using Atoll.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Atoll.Server.Tests.Gateway;

/// <summary>The gateway's key cache: fast for keys in use, bounded against a client that tries random ones.</summary>
public sealed class ApiKeyAuthenticatorTests
{
    private readonly FakeTimeProvider time = new();

    [Fact]
    public async Task Random_keys_fill_only_a_bounded_miss_cache_and_never_push_a_valid_key_out()
    {
        await using var database = await TestDatabase.CreateAsync(StoreEngines.Sqlite);
        await using var store = await database.OpenMigratedStoreAsync();
        var key = Tokens.New(ApiKeyEndpoints.Prefix);
        await store.ApiKeys.AddAsync(new ApiKeyRecord(Tokens.NewId(), "app", Tokens.Hash(key), key[..12], null, null, time.GetUtcNow()), default);
        var authenticator = new ApiKeyAuthenticator(store, time) { MissCapacity = 20 };

        Assert.Equal("app", (await authenticator.AuthenticateAsync("Bearer " + key, default)).Caller?.Name);
        // Deleted from the store: from here on only the cache knows the key, for CacheFor.
        Assert.True(await store.ApiKeys.DeleteAsync("app", default));

        for (var i = 0; i < 100; i++)
        {
            var (caller, problem) = await authenticator.AuthenticateAsync("Bearer " + Tokens.New(ApiKeyEndpoints.Prefix), default);
            Assert.Null(caller);
            Assert.StartsWith("Incorrect API key", problem, StringComparison.Ordinal);
        }
        Assert.True(authenticator.CachedCount <= 1 + 20, $"{authenticator.CachedCount} entries cached");
        Assert.Equal("app", (await authenticator.AuthenticateAsync("Bearer " + key, default)).Caller?.Name);

        time.Advance(ApiKeyAuthenticator.CacheFor);
        Assert.Null((await authenticator.AuthenticateAsync("Bearer " + key, default)).Caller);
    }

    [Fact]
    public async Task A_bearer_longer_than_any_token_is_refused_without_being_looked_up_or_cached()
    {
        // No store at all: a lookup would throw, so an answer shows that none was made.
        var authenticator = new ApiKeyAuthenticator(null!, time);

        var (caller, problem) = await authenticator.AuthenticateAsync("Bearer " + new string('x', 32 * 1024), default);

        Assert.Null(caller);
        Assert.StartsWith("Incorrect API key", problem, StringComparison.Ordinal);
        Assert.Equal(0, authenticator.CachedCount);
    }
}
