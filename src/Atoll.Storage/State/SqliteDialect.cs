using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Atoll.Storage.State;

/// <summary>
/// One SQLite file in WAL mode. Writes begin with <c>BEGIN IMMEDIATE</c> so that a transaction that reads and
/// then writes cannot be overtaken by another writer, and busy connections wait instead of failing.
/// </summary>
internal sealed class SqliteDialect : SqlDialect
{
    private const int BusyTimeoutMilliseconds = 5000;

    private readonly string _connectionString;
    private int _walEnabled;

    public SqliteDialect(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            ForeignKeys = true,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    /// <summary>Absolute path of the database file.</summary>
    public string Path { get; }

    public override string Engine => "sqlite";

    public override string Description => "sqlite://" + Path;

    public override string SchemaMigrationsExistsSql =>
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";

    public override string ClaimLockClause => "";

    public override string OrdinalCollation => "";

    public override async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        SqliteConnection? connection = null;
        try
        {
            if (Volatile.Read(ref _walEnabled) == 0 && System.IO.Path.GetDirectoryName(Path) is { Length: > 0 } directory)
            {
                Directory.CreateDirectory(directory);
            }
            connection = new SqliteConnection(_connectionString);
            await connection.OpenAsync(ct).ConfigureAwait(false);
            await ExecuteAsync(connection, $"PRAGMA busy_timeout = {BusyTimeoutMilliseconds}", ct).ConfigureAwait(false);
            // journal_mode is stored in the file: setting it once per store is enough, and repeating it would
            // need a lock every time a pooled connection is handed out.
            if (Volatile.Read(ref _walEnabled) == 0)
            {
                await ExecuteAsync(connection, "PRAGMA journal_mode = WAL", ct).ConfigureAwait(false);
                Volatile.Write(ref _walEnabled, 1);
            }
            return connection;
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            throw new StoreUnavailableException(
                $"cannot open SQLite database at {Path}: {Reason(e)}; check --data or --store and the file's permissions", e);
        }
    }

    public override Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        DbTransaction transaction = ((SqliteConnection)connection).BeginTransaction(deferred: false);
        return Task.FromResult(transaction);
    }

    // BEGIN IMMEDIATE already excludes every other writer, migrations included.
    public override Task LockMigrationsAsync(DbConnection connection, DbTransaction transaction, CancellationToken ct) =>
        Task.CompletedTask;

    public override ValueTask DisposeAsync()
    {
        // Pooled connections keep the file (and its -wal) open; close them so the file can be moved or deleted.
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
        return ValueTask.CompletedTask;
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
