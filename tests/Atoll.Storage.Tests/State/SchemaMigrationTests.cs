using Atoll.Storage.State;
using Atoll.Testing;

namespace Atoll.Storage.Tests.State;

public sealed class SchemaMigrationTests
{
    private static readonly Migration Future = new(SchemaMigrations.All.Count + 1, "a later atoll's table",
        ["CREATE TABLE later_things (id TEXT PRIMARY KEY)", "INSERT INTO later_things (id) VALUES ('kept')"]);

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Migrations_apply_on_an_empty_database_and_a_second_run_changes_nothing(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var store = db.OpenStore();

        Assert.Equal(0, await store.SchemaVersionAsync(default));
        await store.MigrateAsync(default);
        Assert.Equal(SchemaMigrations.All.Count, await store.SchemaVersionAsync(default));
        await store.AddAdminTokenAsync("a1", "hash-1", StoreSamples.Start, default);

        await store.MigrateAsync(default);

        Assert.Equal(SchemaMigrations.All.Count, await store.SchemaVersionAsync(default));
        Assert.True(await store.IsAdminTokenAsync("hash-1", default));
    }

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Servers_starting_together_apply_each_migration_once(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var stores = Enumerable.Range(0, 4).Select(_ => db.OpenStore()).ToList();
        try
        {
            await Task.WhenAll(stores.Select(s => Task.Run(() => s.MigrateAsync(default))));

            Assert.Equal(SchemaMigrations.All.Count, await stores[0].SchemaVersionAsync(default));
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task A_new_migration_applies_on_top_of_the_existing_schema_and_keeps_the_data(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using (var current = await db.OpenMigratedStoreAsync())
        {
            await current.AddAdminTokenAsync("a1", "hash-1", StoreSamples.Start, default);
        }

        await using var upgraded = StateStoreFactory.Open(db.StoreUrl, db.DataDir, [.. SchemaMigrations.All, Future]);
        await upgraded.MigrateAsync(default);

        Assert.Equal(Future.Version, await upgraded.SchemaVersionAsync(default));
        Assert.True(await upgraded.IsAdminTokenAsync("hash-1", default));
    }

    [Theory, MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task A_schema_newer_than_this_atoll_is_refused_and_not_downgraded(string engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using (var newer = StateStoreFactory.Open(db.StoreUrl, db.DataDir, [.. SchemaMigrations.All, Future]))
        {
            await newer.MigrateAsync(default);
        }
        await using var store = db.OpenStore();

        var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.MigrateAsync(default));

        Assert.Contains(
            $"database schema version {Future.Version} is newer than this atoll ({SchemaMigrations.All.Count}); upgrade atoll",
            error.Message);
        Assert.Equal(Future.Version, await store.SchemaVersionAsync(default));
    }
}
