using System.Data.Common;

namespace Atoll.Storage.State;

/// <summary><see cref="IApiKeyStore"/> on the same engines and dialects as the state store.</summary>
internal sealed class SqlApiKeyStore(SqlDialect dialect) : IApiKeyStore
{
    private const string Columns = "id, name, key_hash, prefix, rpm, tpm, created_at, max_concurrent";

    public async Task AddAsync(ApiKeyRecord key, CancellationToken ct)
    {
        var connection = await dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await dialect.BeginWriteAsync(connection, ct).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var taken = await DbCommands.ScalarInt64Async(connection, transaction,
                    "SELECT COUNT(*) FROM api_keys WHERE name = @name", ct, ("@name", key.Name)).ConfigureAwait(false);
                if (taken > 0)
                {
                    throw new InvalidOperationException($"an API key named '{key.Name}' already exists: choose another --name, or delete it first");
                }
                await DbCommands.ExecuteAsync(connection, transaction,
                    $"INSERT INTO api_keys ({Columns}) VALUES (@id, @name, @key_hash, @prefix, @rpm, @tpm, @created_at, @max_concurrent)", ct,
                    ("@id", key.Id), ("@name", key.Name), ("@key_hash", key.KeyHash), ("@prefix", key.Prefix),
                    ("@rpm", key.RequestsPerMinute), ("@tpm", key.TokensPerMinute), ("@created_at", DbCommands.ToUnixMs(key.CreatedAt)),
                    ("@max_concurrent", key.MaxConcurrent))
                    .ConfigureAwait(false);
                await transaction.CommitAsync(ct).ConfigureAwait(false);
            }
        }
    }

    public Task<IReadOnlyList<ApiKeyRecord>> ListAsync(CancellationToken ct) =>
        QueryAsync($"SELECT {Columns} FROM api_keys ORDER BY name{dialect.OrdinalCollation}", ct);

    public async Task<ApiKeyRecord?> FindByHashAsync(string keyHash, CancellationToken ct)
    {
        var found = await QueryAsync($"SELECT {Columns} FROM api_keys WHERE key_hash = @key_hash", ct, ("@key_hash", keyHash)).ConfigureAwait(false);
        return found.Count == 0 ? null : found[0];
    }

    public async Task<bool> DeleteAsync(string nameOrId, CancellationToken ct)
    {
        var connection = await dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await DbCommands.ExecuteAsync(connection, null,
                "DELETE FROM api_keys WHERE name = @key OR id = @key", ct, ("@key", nameOrId)).ConfigureAwait(false) > 0;
        }
    }

    private async Task<IReadOnlyList<ApiKeyRecord>> QueryAsync(string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        var connection = await dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await DbCommands.QueryAsync(connection, null, sql, Read, ct, parameters).ConfigureAwait(false);
        }
    }

    private static ApiKeyRecord Read(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3),
            r.IsDBNull(4) ? null : r.GetInt32(4), r.IsDBNull(5) ? null : r.GetInt32(5), DbCommands.FromUnixMs(r.GetInt64(6)),
            r.IsDBNull(7) ? null : r.GetInt32(7));
}
