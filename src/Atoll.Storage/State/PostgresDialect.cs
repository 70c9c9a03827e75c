using System.Data.Common;
using System.Net.Sockets;
using Npgsql;

namespace Atoll.Storage.State;

/// <summary>
/// PostgreSQL through a pooled <see cref="NpgsqlDataSource"/>. Read committed is enough because every
/// check-then-write is a conditional statement whose row count decides; migrations take an advisory lock.
/// </summary>
internal sealed class PostgresDialect : SqlDialect
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _target;

    public PostgresDialect(NpgsqlConnectionStringBuilder settings, string description)
    {
        _target = $"{settings.Host}:{settings.Port}/{settings.Database}";
        Description = description;
        _dataSource = NpgsqlDataSource.Create(settings);
    }

    public override string Engine => "postgres";

    public override string Description { get; }

    public override string SchemaMigrationsExistsSql =>
        "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0 ELSE 1 END";

    // Node names must list in the same order on both engines, whatever the database's locale is.
    public override string ClaimLockClause => " FOR UPDATE OF bc SKIP LOCKED";

    public override string OrdinalCollation => " COLLATE \"C\"";

    public override async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        try
        {
            return await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e) when ((e is NpgsqlException or SocketException or TimeoutException) && !ct.IsCancellationRequested)
        {
            throw new StoreUnavailableException(
                $"cannot reach PostgreSQL at {_target}: {Reason(e)}; check --store and that the database is running", e);
        }
    }

    public override async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken ct) =>
        await connection.BeginTransactionAsync(ct).ConfigureAwait(false);

    public override async Task LockMigrationsAsync(DbConnection connection, DbTransaction transaction, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        // Advisory locks are cluster-wide: key on the database and schema so unrelated databases do not wait.
        command.CommandText =
            "SELECT pg_advisory_xact_lock(hashtext(current_database() || '.' || current_schema() || '.atoll_migrations'))";
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
