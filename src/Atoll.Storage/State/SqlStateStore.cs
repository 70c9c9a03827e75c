using System.Data.Common;
using Atoll.Core.Contracts;

namespace Atoll.Storage.State;

/// <summary>
/// <see cref="IStateStore"/> over ADO.NET: one set of statements for both engines, the differences kept in
/// <see cref="SqlDialect"/>. Every method opens a pooled connection and runs one short statement or transaction.
/// </summary>
internal sealed class SqlStateStore : IStateStore
{
    private readonly SqlDialect _dialect;
    private readonly SchemaMigrator _migrator;

    public SqlStateStore(SqlDialect dialect, IReadOnlyList<Migration>? migrations = null, TimeProvider? time = null)
    {
        _dialect = dialect;
        _migrator = new SchemaMigrator(dialect, migrations ?? SchemaMigrations.All, time ?? TimeProvider.System);
        ApiKeys = new SqlApiKeyStore(dialect);
        Batches = new SqlBatchStore(dialect);
        Fleet = new SqlFleetStore(dialect);
    }

    public IApiKeyStore ApiKeys { get; }

    public IBatchStore Batches { get; }

    public IFleetStore Fleet { get; }

    public string Engine => _dialect.Engine;

    public string Description => _dialect.Description;

    internal SqlDialect Dialect => _dialect;

    public Task MigrateAsync(CancellationToken ct) => _migrator.MigrateAsync(ct);

    public Task<int> SchemaVersionAsync(CancellationToken ct) => _migrator.CurrentVersionAsync(ct);

    public async Task PingAsync(CancellationToken ct)
    {
        var connection = await _dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            try
            {
                await DbCommands.ScalarInt64Async(connection, null, "SELECT 1", ct).ConfigureAwait(false);
            }
            catch (DbException e)
            {
                throw new StoreUnavailableException($"{Description} does not answer: {e.Message}", e);
            }
        }
    }

    public Task<bool> HasAdminTokenAsync(CancellationToken ct) =>
        ExistsAsync("SELECT COUNT(*) FROM admin_tokens", ct);

    public Task AddAdminTokenAsync(string id, string tokenHash, DateTimeOffset now, CancellationToken ct) =>
        ExecuteAsync(
            "INSERT INTO admin_tokens (id, token_hash, created_at) VALUES (@id, @token_hash, @created_at)", ct,
            ("@id", id), ("@token_hash", tokenHash), ("@created_at", DbCommands.ToUnixMs(now)));

    public Task<bool> IsAdminTokenAsync(string tokenHash, CancellationToken ct) =>
        ExistsAsync("SELECT COUNT(*) FROM admin_tokens WHERE token_hash = @token_hash", ct, ("@token_hash", tokenHash));

    public Task AddJoinTokenAsync(JoinTokenRecord token, CancellationToken ct) =>
        ExecuteAsync(
            "INSERT INTO join_tokens (id, token_hash, uses_left, expires_at, pool, description, created_at, claim) " +
            "VALUES (@id, @token_hash, @uses_left, @expires_at, @pool, @description, @created_at, @claim)", ct,
            ("@id", token.Id), ("@token_hash", token.TokenHash), ("@uses_left", token.UsesLeft),
            ("@expires_at", DbCommands.ToUnixMs(token.ExpiresAt)), ("@pool", token.Pool),
            ("@description", token.Description), ("@created_at", DbCommands.ToUnixMs(token.CreatedAt)), ("@claim", token.Claim));

    public async Task<IReadOnlyList<JoinTokenRecord>> ListJoinTokensAsync(CancellationToken ct)
    {
        var connection = await _dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await DbCommands.QueryAsync(connection, null,
                "SELECT id, token_hash, uses_left, expires_at, pool, description, created_at, claim FROM join_tokens " +
                $"ORDER BY created_at, id{_dialect.OrdinalCollation}",
                reader => new JoinTokenRecord(
                    reader.GetString(0), reader.GetString(1), reader.GetInt32(2), DbCommands.FromUnixMs(reader.GetInt64(3)),
                    DbCommands.NullableString(reader, 4), DbCommands.NullableString(reader, 5), DbCommands.FromUnixMs(reader.GetInt64(6)),
                    DbCommands.NullableString(reader, 7)),
                ct).ConfigureAwait(false);
        }
    }

    public async Task<bool> DeleteJoinTokenAsync(string id, CancellationToken ct) =>
        await ExecuteAsync("DELETE FROM join_tokens WHERE id = @id", ct, ("@id", id)).ConfigureAwait(false) > 0;

    public async Task<RegistrationResult> RegisterNodeAsync(
        string joinTokenHash, NodeView node, string credentialHash, DateTimeOffset now, DateTimeOffset aliveAfter,
        string? registrationKeyHash, CancellationToken ct)
    {
        var connection = await _dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await _dialect.BeginWriteAsync(connection, ct).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var registration = new NodeRegistration(connection, transaction, _dialect);
                var result = await registration.RunAsync(joinTokenHash, node, credentialHash, now, aliveAfter, registrationKeyHash, ct).ConfigureAwait(false);
                if (result.Outcome is RegistrationOutcome.Registered or RegistrationOutcome.Resumed)
                {
                    await transaction.CommitAsync(ct).ConfigureAwait(false);
                }
                else
                {
                    await transaction.RollbackAsync(ct).ConfigureAwait(false);
                }
                return result;
            }
        }
    }

    public async Task<string?> FindNodeByCredentialAsync(string credentialHash, CancellationToken ct)
    {
        var connection = await _dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = DbCommands.Create(connection, null,
                "SELECT node_name FROM node_credentials WHERE token_hash = @token_hash", ("@token_hash", credentialHash));
            await using (command.ConfigureAwait(false))
            {
                return await command.ExecuteScalarAsync(ct).ConfigureAwait(false) as string;
            }
        }
    }

    public async Task<NodeView?> GetNodeAsync(string name, CancellationToken ct)
    {
        var connection = await _dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await NodeRegistration.ReadNodeAsync(connection, null, name, ct).ConfigureAwait(false);
        }
    }

    public async Task<IReadOnlyList<NodeView>> ListNodesAsync(CancellationToken ct)
    {
        var connection = await _dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = DbCommands.Create(connection, null,
                $"SELECT {NodeRows.Columns} FROM nodes ORDER BY name{_dialect.OrdinalCollation}");
            await using (command.ConfigureAwait(false))
            {
                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    var nodes = new List<NodeView>();
                    while (await reader.ReadAsync(ct).ConfigureAwait(false))
                    {
                        nodes.Add(NodeRows.Read(reader));
                    }
                    return nodes;
                }
            }
        }
    }

    public async Task<bool> RecordHeartbeatAsync(
        string name, GpuReport gpu, IReadOnlyList<ModelEndpoint> models, IReadOnlyList<NodeCondition> conditions,
        DateTimeOffset now, CancellationToken ct) =>
        await ExecuteAsync(
            "UPDATE nodes SET gpu_json = @gpu_json, models_json = @models_json, conditions_json = @conditions_json, " +
            "last_heartbeat_at = @now WHERE name = @name", ct,
            ("@gpu_json", NodeRows.ToJson(gpu)), ("@models_json", NodeRows.ToJson(models)),
            ("@conditions_json", NodeRows.ToJson(conditions)), ("@now", DbCommands.ToUnixMs(now)), ("@name", name)).ConfigureAwait(false) > 0;

    public async Task<bool> UpdateConditionsAsync(
        string name, IReadOnlyList<NodeCondition> conditions, DateTimeOffset expectedLastHeartbeat, CancellationToken ct) =>
        await ExecuteAsync(
            "UPDATE nodes SET conditions_json = @conditions_json WHERE name = @name AND last_heartbeat_at = @expected", ct,
            ("@conditions_json", NodeRows.ToJson(conditions)), ("@name", name),
            ("@expected", DbCommands.ToUnixMs(expectedLastHeartbeat))).ConfigureAwait(false) > 0;

    public async Task<bool> DeleteNodeAsync(string name, CancellationToken ct)
    {
        var connection = await _dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await _dialect.BeginWriteAsync(connection, ct).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                // Explicit rather than left to ON DELETE CASCADE, so revocation never depends on a foreign-key setting.
                await DbCommands.ExecuteAsync(connection, transaction,
                    "DELETE FROM node_credentials WHERE node_name = @name", ct, ("@name", name)).ConfigureAwait(false);
                var deleted = await DbCommands.ExecuteAsync(connection, transaction,
                    "DELETE FROM nodes WHERE name = @name", ct, ("@name", name)).ConfigureAwait(false);
                await transaction.CommitAsync(ct).ConfigureAwait(false);
                return deleted > 0;
            }
        }
    }

    public ValueTask DisposeAsync() => _dialect.DisposeAsync();

    private async Task<int> ExecuteAsync(string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        var connection = await _dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await DbCommands.ExecuteAsync(connection, null, sql, ct, parameters).ConfigureAwait(false);
        }
    }

    private async Task<bool> ExistsAsync(string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        var connection = await _dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await DbCommands.ScalarInt64Async(connection, null, sql, ct, parameters).ConfigureAwait(false) > 0;
        }
    }
}
