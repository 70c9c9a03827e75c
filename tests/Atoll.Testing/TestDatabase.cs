using Atoll.Storage.State;

namespace Atoll.Testing;

/// <summary>
/// A fresh, empty state store for one test: SQLite in a new temporary data directory, or a new PostgreSQL
/// database on <see cref="PostgresTestServer"/>. Disposing removes both.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly string? _postgresDatabase;

    private TestDatabase(string engine, string storeUrl, string dataDir, string? postgresDatabase)
    {
        Engine = engine;
        StoreUrl = storeUrl;
        DataDir = dataDir;
        _postgresDatabase = postgresDatabase;
    }

    /// <summary><see cref="StoreEngines.Sqlite"/> or <see cref="StoreEngines.Postgres"/>.</summary>
    public string Engine { get; }

    /// <summary>What to pass as <c>--store</c>: "sqlite" (meaning <see cref="DataDir"/>/atoll.db) or a postgres:// URL.</summary>
    public string StoreUrl { get; }

    /// <summary>A new empty directory, deleted on dispose; holds the SQLite file for the SQLite engine.</summary>
    public string DataDir { get; }

    public static async Task<TestDatabase> CreateAsync(string engine, CancellationToken ct = default)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "atoll-test-" + Guid.NewGuid().ToString("N")[..12]);
        switch (engine)
        {
            case StoreEngines.Sqlite:
                Directory.CreateDirectory(dataDir);
                return new TestDatabase(engine, "sqlite", dataDir, null);
            case StoreEngines.Postgres:
                var name = "atoll_t_" + Guid.NewGuid().ToString("N")[..16];
                var url = await PostgresTestServer.CreateDatabaseAsync(name, ct);
                Directory.CreateDirectory(dataDir);
                return new TestDatabase(engine, url, dataDir, name);
            default:
                throw new ArgumentException($"unknown engine '{engine}': expected {StoreEngines.Sqlite} or {StoreEngines.Postgres}", nameof(engine));
        }
    }

    /// <summary>A store on this database, not yet migrated; the caller disposes it before this.</summary>
    public IStateStore OpenStore() => StateStoreFactory.Open(StoreUrl, DataDir);

    /// <summary>A store on this database with the schema applied.</summary>
    public async Task<IStateStore> OpenMigratedStoreAsync(CancellationToken ct = default)
    {
        var store = OpenStore();
        try
        {
            await store.MigrateAsync(ct);
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_postgresDatabase is not null)
        {
            await PostgresTestServer.DropDatabaseAsync(_postgresDatabase);
        }
        if (Directory.Exists(DataDir))
        {
            Directory.Delete(DataDir, recursive: true);
        }
    }
}
