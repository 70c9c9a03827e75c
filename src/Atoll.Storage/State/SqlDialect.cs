using System.Data.Common;

namespace Atoll.Storage.State;

/// <summary>
/// What differs between the engines behind <see cref="SqlStateStore"/>: opening connections, starting write
/// transactions, serialising migrations and a few SQL fragments. The statements themselves are shared.
/// </summary>
internal abstract class SqlDialect : IAsyncDisposable
{
    /// <summary>"sqlite" or "postgres".</summary>
    public abstract string Engine { get; }

    /// <summary>Where the data lives, safe to log (no password).</summary>
    public abstract string Description { get; }

    /// <summary>
    /// SQL that tells whether the schema_migrations table exists (one row, one value, non-zero when it does).
    /// </summary>
    public abstract string SchemaMigrationsExistsSql { get; }

    /// <summary>Collation clause that makes text compare by code point on this engine ("" when that is the default).</summary>
    public abstract string OrdinalCollation { get; }

    /// <summary>
    /// Appended to the subquery that picks a queue row to claim: PostgreSQL skips rows other claimers hold
    /// (<c>FOR UPDATE OF bc SKIP LOCKED</c>); SQLite needs nothing because its write transaction excludes others.
    /// </summary>
    public abstract string ClaimLockClause { get; }

    /// <summary>An open, configured connection; throws <see cref="StoreUnavailableException"/> when the store cannot be opened.</summary>
    public abstract Task<DbConnection> OpenAsync(CancellationToken ct);

    /// <summary>A transaction that holds the write lock from its start where the engine needs that to stay serialisable.</summary>
    public abstract Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken ct);

    /// <summary>Blocks other servers' migrations until <paramref name="transaction"/> ends.</summary>
    public abstract Task LockMigrationsAsync(DbConnection connection, DbTransaction transaction, CancellationToken ct);

    public abstract ValueTask DisposeAsync();

    /// <summary>The messages of an exception and its causes, without repeats, for an error a person reads.</summary>
    protected static string Reason(Exception e)
    {
        var parts = new List<string>();
        for (var current = e; current is not null; current = current.InnerException)
        {
            var message = current.Message.Trim().TrimEnd('.');
            if (message.Length > 0 && !parts.Any(p => p.Contains(message, StringComparison.Ordinal)))
            {
                parts.Add(message);
            }
        }
        return string.Join(": ", parts);
    }
}
