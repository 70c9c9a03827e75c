using System.Data.Common;

namespace Atoll.Storage.State;

/// <summary>
/// Applies <see cref="Migration"/>s one transaction each, under the dialect's migration lock, recording each in
/// schema_migrations. Re-reads the version inside every transaction, so servers starting together apply each
/// step once. Refuses a database that a newer atoll has migrated further: it never downgrades.
/// </summary>
internal sealed class SchemaMigrator
{
    private const string CreateSchemaMigrations = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at BIGINT NOT NULL
        )
        """;

    private const string CurrentVersionSql = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";

    private readonly SqlDialect _dialect;
    private readonly IReadOnlyList<Migration> _migrations;
    private readonly TimeProvider _time;

    public SchemaMigrator(SqlDialect dialect, IReadOnlyList<Migration> migrations, TimeProvider time)
    {
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
            {
                throw new ArgumentException($"migrations must be numbered 1, 2, 3, …; found {migrations[i].Version} at position {i + 1}", nameof(migrations));
            }
        }
        _dialect = dialect;
        _migrations = migrations;
        _time = time;
    }

    /// <summary>The highest version this code knows.</summary>
    public int LatestVersion => _migrations.Count;

    public async Task MigrateAsync(CancellationToken ct)
    {
        var connection = await _dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            while (await ApplyNextAsync(connection, ct).ConfigureAwait(false))
            {
            }
        }
    }

    public async Task<int> CurrentVersionAsync(CancellationToken ct)
    {
        var connection = await _dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            if (await DbCommands.ScalarInt64Async(connection, null, _dialect.SchemaMigrationsExistsSql, ct).ConfigureAwait(false) == 0)
            {
                return 0;
            }
            return (int)await DbCommands.ScalarInt64Async(connection, null, CurrentVersionSql, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Applies the next pending step; false when there was none.</summary>
    private async Task<bool> ApplyNextAsync(DbConnection connection, CancellationToken ct)
    {
        var transaction = await _dialect.BeginWriteAsync(connection, ct).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            await _dialect.LockMigrationsAsync(connection, transaction, ct).ConfigureAwait(false);
            await DbCommands.ExecuteAsync(connection, transaction, CreateSchemaMigrations, ct).ConfigureAwait(false);
            var current = (int)await DbCommands.ScalarInt64Async(connection, transaction, CurrentVersionSql, ct).ConfigureAwait(false);
            if (current > LatestVersion)
            {
                throw new StoreUnavailableException(
                    $"database schema version {current} is newer than this atoll ({LatestVersion}); upgrade atoll (store: {_dialect.Description})");
            }
            if (current == LatestVersion)
            {
                await transaction.CommitAsync(ct).ConfigureAwait(false);
                return false;
            }

            var next = _migrations[current];
            foreach (var statement in next.Statements)
            {
                await DbCommands.ExecuteAsync(connection, transaction, statement, ct).ConfigureAwait(false);
            }
            await DbCommands.ExecuteAsync(
                connection, transaction,
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@version, @name, @applied_at)", ct,
                ("@version", next.Version), ("@name", next.Name), ("@applied_at", DbCommands.ToUnixMs(_time.GetUtcNow()))).ConfigureAwait(false);
            await transaction.CommitAsync(ct).ConfigureAwait(false);
            return true;
        }
    }
}
