using System.Data.Common;
using Atoll.Core.Contracts;

namespace Atoll.Storage.State;

/// <summary>
/// The steps of <see cref="IStateStore.RegisterNodeAsync"/> inside the caller's write transaction. Each write is
/// conditional and its row count decides, so concurrent servers cannot both spend the last use of a token or
/// both take a live name; the caller rolls back on any outcome but <see cref="RegistrationOutcome.Registered"/>
/// (and <see cref="RegistrationOutcome.Resumed"/>).
/// </summary>
internal sealed class NodeRegistration(DbConnection connection, DbTransaction transaction, SqlDialect dialect)
{
    private const string SpendToken =
        "UPDATE join_tokens SET uses_left = uses_left - 1 " +
        "WHERE token_hash = @token_hash AND uses_left > 0 AND expires_at > @now";

    // Inserts the node, or replaces one of that name only when it is dead; no row written means the name is in use.
    private const string UpsertDeadNode =
        $"INSERT INTO nodes ({NodeRows.Columns}) VALUES (@name, @provider, @region, @location, @instance_type, " +
        "@capacity_type, @pool, @labels_json, @gpu_json, @models_json, @conditions_json, @registered_at, " +
        "@last_heartbeat_at, @agent_version, @claim) " +
        "ON CONFLICT (name) DO UPDATE SET provider = excluded.provider, region = excluded.region, " +
        "location = excluded.location, instance_type = excluded.instance_type, capacity_type = excluded.capacity_type, " +
        "pool = excluded.pool, labels_json = excluded.labels_json, gpu_json = excluded.gpu_json, " +
        "models_json = excluded.models_json, conditions_json = excluded.conditions_json, " +
        "registered_at = excluded.registered_at, last_heartbeat_at = excluded.last_heartbeat_at, " +
        "agent_version = excluded.agent_version, claim = excluded.claim " +
        "WHERE nodes.last_heartbeat_at < @alive_after";

    // A retry of a registration whose answer was lost: the node this token and key registered gets its fields
    // refreshed (pool and claim stay those of its first registration).
    private const string ResumeNode =
        "UPDATE nodes SET provider = @provider, region = @region, location = @location, instance_type = @instance_type, " +
        "capacity_type = @capacity_type, labels_json = @labels_json, gpu_json = @gpu_json, models_json = @models_json, " +
        "conditions_json = @conditions_json, last_heartbeat_at = @last_heartbeat_at, agent_version = @agent_version " +
        "WHERE name = @name AND join_token_hash = @join_token_hash AND registration_key_hash = @registration_key_hash";

    public async Task<RegistrationResult> RunAsync(
        string joinTokenHash, NodeView node, string credentialHash, DateTimeOffset now, DateTimeOffset aliveAfter,
        string? registrationKeyHash, CancellationToken ct)
    {
        var (refusal, pool, claim) = await CheckTokenAsync(joinTokenHash, now, ct).ConfigureAwait(false);
        if (refusal is RegistrationOutcome.UnknownToken or RegistrationOutcome.ExpiredToken)
        {
            return new RegistrationResult(refusal.Value);
        }
        if (registrationKeyHash is not null)
        {
            var resume = NodeRows.Parameters(node with { LastHeartbeatAt = now })
                .Append(("@join_token_hash", joinTokenHash)).Append(("@registration_key_hash", registrationKeyHash)).ToArray();
            if (await DbCommands.ExecuteAsync(connection, transaction, ResumeNode, ct, resume).ConfigureAwait(false) == 1)
            {
                await ReplaceCredentialAsync(node.Name, credentialHash, now, ct).ConfigureAwait(false);
                return new RegistrationResult(RegistrationOutcome.Resumed, await ReadWrittenAsync(node.Name, ct).ConfigureAwait(false));
            }
        }
        if (refusal is { } refused)
        {
            return new RegistrationResult(refused);
        }

        var spent = await DbCommands.ExecuteAsync(connection, transaction, SpendToken, ct,
            ("@token_hash", joinTokenHash), ("@now", DbCommands.ToUnixMs(now))).ConfigureAwait(false);
        if (spent == 0)
        {
            // Another server spent or deleted the token after our check; in read committed this re-read sees why.
            var (again, _, _) = await CheckTokenAsync(joinTokenHash, now, ct).ConfigureAwait(false);
            return new RegistrationResult(again ?? RegistrationOutcome.UsedUpToken);
        }

        var stored = node with { Pool = pool, Claim = claim, RegisteredAt = now, LastHeartbeatAt = now };
        var parameters = NodeRows.Parameters(stored).Append(("@alive_after", DbCommands.ToUnixMs(aliveAfter))).ToArray();
        if (await DbCommands.ExecuteAsync(connection, transaction, UpsertDeadNode, ct, parameters).ConfigureAwait(false) == 0)
        {
            return new RegistrationResult(RegistrationOutcome.NameInUse);
        }

        await DbCommands.ExecuteAsync(connection, transaction,
            "UPDATE nodes SET join_token_hash = @join_token_hash, registration_key_hash = @registration_key_hash WHERE name = @name", ct,
            ("@join_token_hash", joinTokenHash), ("@registration_key_hash", registrationKeyHash), ("@name", node.Name)).ConfigureAwait(false);
        await ReplaceCredentialAsync(node.Name, credentialHash, now, ct).ConfigureAwait(false);
        return new RegistrationResult(RegistrationOutcome.Registered, await ReadWrittenAsync(node.Name, ct).ConfigureAwait(false));
    }

    private async Task ReplaceCredentialAsync(string name, string credentialHash, DateTimeOffset now, CancellationToken ct)
    {
        await DbCommands.ExecuteAsync(connection, transaction,
            "DELETE FROM node_credentials WHERE node_name = @name", ct, ("@name", name)).ConfigureAwait(false);
        await DbCommands.ExecuteAsync(connection, transaction,
            "INSERT INTO node_credentials (token_hash, node_name, created_at) VALUES (@token_hash, @name, @now)", ct,
            ("@token_hash", credentialHash), ("@name", name), ("@now", DbCommands.ToUnixMs(now))).ConfigureAwait(false);
    }

    private async Task<NodeView> ReadWrittenAsync(string name, CancellationToken ct) =>
        await ReadNodeAsync(connection, transaction, name, ct).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"node '{name}' vanished inside its own registration transaction on {dialect.Description}");

    public static async Task<NodeView?> ReadNodeAsync(DbConnection connection, DbTransaction? transaction, string name, CancellationToken ct)
    {
        var command = DbCommands.Create(connection, transaction,
            $"SELECT {NodeRows.Columns} FROM nodes WHERE name = @name", ("@name", name));
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                return await reader.ReadAsync(ct).ConfigureAwait(false) ? NodeRows.Read(reader) : null;
            }
        }
    }

    /// <summary>Why the token cannot be used (null when it can), the pool it puts nodes in and the claim it is bound to.</summary>
    private async Task<(RegistrationOutcome? Refusal, string? Pool, string? Claim)> CheckTokenAsync(string tokenHash, DateTimeOffset now, CancellationToken ct)
    {
        var command = DbCommands.Create(connection, transaction,
            "SELECT uses_left, expires_at, pool, claim FROM join_tokens WHERE token_hash = @token_hash", ("@token_hash", tokenHash));
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                if (!await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    return (RegistrationOutcome.UnknownToken, null, null);
                }
                var usesLeft = reader.GetInt32(0);
                var expiresAt = reader.GetInt64(1);
                var pool = DbCommands.NullableString(reader, 2);
                var claim = DbCommands.NullableString(reader, 3);
                if (expiresAt <= DbCommands.ToUnixMs(now))
                {
                    return (RegistrationOutcome.ExpiredToken, pool, claim);
                }
                return usesLeft <= 0 ? (RegistrationOutcome.UsedUpToken, pool, claim) : (null, pool, claim);
            }
        }
    }
}
