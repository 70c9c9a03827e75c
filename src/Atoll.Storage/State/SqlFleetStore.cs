using System.Data.Common;
using System.Text.Json;
using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;

namespace Atoll.Storage.State;

/// <summary><see cref="IFleetStore"/> on the same engines and dialects as the state store.</summary>
internal sealed class SqlFleetStore(SqlDialect dialect) : IFleetStore
{
    private const string ResourceColumns = "kind, name, spec_json, labels_json, status_json, generation, created_at, updated_at, apply_set";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<IReadOnlyList<ResourceDocument>> ListResourcesAsync(string? kind, CancellationToken ct)
    {
        var connection = await dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await DbCommands.QueryAsync(connection, null,
                // No "@kind IS NULL OR ...": PostgreSQL cannot type a parameter that is only ever compared with NULL.
                $"SELECT {ResourceColumns} FROM resources {(kind is null ? "" : "WHERE kind = @kind ")}" +
                $"ORDER BY kind{dialect.OrdinalCollation}, name{dialect.OrdinalCollation}",
                ReadResource, ct, kind is null ? [] : [("@kind", kind)]).ConfigureAwait(false);
            return rows.Select(r => r.Document).ToList();
        }
    }

    public async Task<ResourceDocument?> GetResourceAsync(string kind, string name, CancellationToken ct)
    {
        var connection = await dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await SelectAsync(connection, null, kind, name, ct).ConfigureAwait(false);
            return rows.Count == 0 ? null : rows[0].Document;
        }
    }

    public async Task<IReadOnlyList<ApplyResultItem>> ApplyAsync(
        IReadOnlyList<ResourceDocument> documents, string applySet, bool prune, bool dryRun, DateTimeOffset now, CancellationToken ct)
    {
        var connection = await dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await dialect.BeginWriteAsync(connection, ct).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var results = new List<ApplyResultItem>();
                foreach (var document in documents)
                {
                    results.Add(new ApplyResultItem(document.Kind, document.Metadata.Name,
                        await UpsertAsync(connection, transaction, document, applySet, dryRun, now, ct).ConfigureAwait(false)));
                }
                if (prune)
                {
                    var keep = documents.Select(d => (d.Kind, d.Metadata.Name)).ToHashSet();
                    var members = await DbCommands.QueryAsync(connection, transaction,
                        "SELECT kind, name FROM resources WHERE apply_set = @apply_set", r => (r.GetString(0), r.GetString(1)), ct,
                        ("@apply_set", applySet)).ConfigureAwait(false);
                    foreach (var (kind, name) in members.Where(m => !keep.Contains(m)).OrderBy(m => m.Item1, StringComparer.Ordinal).ThenBy(m => m.Item2, StringComparer.Ordinal))
                    {
                        if (!dryRun)
                        {
                            await DbCommands.ExecuteAsync(connection, transaction, "DELETE FROM resources WHERE kind = @kind AND name = @name", ct,
                                ("@kind", kind), ("@name", name)).ConfigureAwait(false);
                        }
                        results.Add(new ApplyResultItem(kind, name, "pruned"));
                    }
                }
                if (dryRun)
                {
                    await transaction.RollbackAsync(ct).ConfigureAwait(false);
                }
                else
                {
                    await transaction.CommitAsync(ct).ConfigureAwait(false);
                }
                return results;
            }
        }
    }

    public async Task<bool> DeleteResourceAsync(string kind, string name, CancellationToken ct) =>
        await ExecuteAsync("DELETE FROM resources WHERE kind = @kind AND name = @name", ct, ("@kind", kind), ("@name", name)).ConfigureAwait(false) > 0;

    public async Task<bool> SetStatusAsync(string kind, string name, string statusJson, CancellationToken ct) =>
        await ExecuteAsync("UPDATE resources SET status_json = @status WHERE kind = @kind AND name = @name", ct,
            ("@status", statusJson), ("@kind", kind), ("@name", name)).ConfigureAwait(false) > 0;

    public async Task<IReadOnlyList<NodeClaim>> ListClaimsAsync(string? pool, bool includeTerminated, CancellationToken ct)
    {
        var connection = await dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await DbCommands.QueryAsync(connection, null,
                "SELECT data_json, version FROM node_claims WHERE 1 = 1 " +
                (pool is null ? "" : "AND pool = @pool ") + (includeTerminated ? "" : "AND phase <> @terminated ") +
                $"ORDER BY created_at, name{dialect.OrdinalCollation}",
                ReadClaim, ct, [.. pool is null ? [] : new (string, object?)[] { ("@pool", pool) }, ("@terminated", ClaimPhases.Terminated)]).ConfigureAwait(false);
        }
    }

    public async Task<NodeClaim?> GetClaimAsync(string name, CancellationToken ct)
    {
        var connection = await dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await DbCommands.QueryAsync(connection, null,
                "SELECT data_json, version FROM node_claims WHERE name = @name", ReadClaim, ct, ("@name", name)).ConfigureAwait(false);
            return rows.Count == 0 ? null : rows[0];
        }
    }

    public async Task<bool> InsertClaimAsync(NodeClaim claim, DateTimeOffset now, CancellationToken ct)
    {
        var stored = claim with { Version = 1 };
        return await ExecuteAsync(
            "INSERT INTO node_claims (name, pool, phase, version, data_json, created_at, updated_at) " +
            "VALUES (@name, @pool, @phase, 1, @data, @created, @now) ON CONFLICT (name) DO NOTHING", ct,
            ("@name", claim.Name), ("@pool", claim.Pool), ("@phase", claim.Phase), ("@data", JsonSerializer.Serialize(stored, Json)),
            ("@created", DbCommands.ToUnixMs(claim.CreatedAt)), ("@now", DbCommands.ToUnixMs(now))).ConfigureAwait(false) > 0;
    }

    public async Task<NodeClaim?> UpdateClaimAsync(NodeClaim claim, DateTimeOffset now, CancellationToken ct)
    {
        var stored = claim with { Version = claim.Version + 1 };
        var written = await ExecuteAsync(
            "UPDATE node_claims SET phase = @phase, version = @next, data_json = @data, updated_at = @now " +
            "WHERE name = @name AND version = @version", ct,
            ("@phase", claim.Phase), ("@next", stored.Version), ("@data", JsonSerializer.Serialize(stored, Json)),
            ("@now", DbCommands.ToUnixMs(now)), ("@name", claim.Name), ("@version", claim.Version)).ConfigureAwait(false);
        return written > 0 ? stored : null;
    }

    public async Task<string> GetOrAddSettingAsync(string key, string valueIfMissing, CancellationToken ct)
    {
        await ExecuteAsync("INSERT INTO settings (key, value) VALUES (@key, @value) ON CONFLICT (key) DO NOTHING", ct,
            ("@key", key), ("@value", valueIfMissing)).ConfigureAwait(false);
        var connection = await dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await DbCommands.QueryAsync(connection, null, "SELECT value FROM settings WHERE key = @key", r => r.GetString(0), ct, ("@key", key)).ConfigureAwait(false);
            return rows[0];
        }
    }

    public Task<int> PurgeTerminatedClaimsAsync(DateTimeOffset before, CancellationToken ct) =>
        ExecuteAsync("DELETE FROM node_claims WHERE phase = @terminated AND updated_at < @before", ct,
            ("@terminated", ClaimPhases.Terminated), ("@before", DbCommands.ToUnixMs(before)));

    private static async Task<string> UpsertAsync(
        DbConnection connection, DbTransaction transaction, ResourceDocument document, string applySet, bool dryRun, DateTimeOffset now, CancellationToken ct)
    {
        var spec = document.Spec.GetRawText();
        var labels = document.Metadata.Labels is { Count: > 0 } l ? JsonSerializer.Serialize(l, Json) : null;
        var existing = await SelectAsync(connection, transaction, document.Kind, document.Metadata.Name, ct).ConfigureAwait(false);
        if (existing.Count == 0)
        {
            if (!dryRun)
            {
                await DbCommands.ExecuteAsync(connection, transaction,
                    $"INSERT INTO resources ({ResourceColumns}) VALUES (@kind, @name, @spec, @labels, NULL, 1, @now, @now, @apply_set)", ct,
                    ("@kind", document.Kind), ("@name", document.Metadata.Name), ("@spec", spec), ("@labels", labels),
                    ("@now", DbCommands.ToUnixMs(now)), ("@apply_set", applySet)).ConfigureAwait(false);
            }
            return "created";
        }
        var row = existing[0];
        var same = SameJson(row.SpecJson, spec) && row.LabelsJson == labels;
        if (same && row.ApplySet == applySet)
        {
            return "unchanged";
        }
        if (!dryRun)
        {
            await DbCommands.ExecuteAsync(connection, transaction,
                "UPDATE resources SET spec_json = @spec, labels_json = @labels, apply_set = @apply_set, " +
                "generation = generation + @bump, updated_at = @now WHERE kind = @kind AND name = @name", ct,
                ("@spec", spec), ("@labels", labels), ("@apply_set", applySet), ("@bump", same ? 0 : 1),
                ("@now", DbCommands.ToUnixMs(now)), ("@kind", document.Kind), ("@name", document.Metadata.Name)).ConfigureAwait(false);
        }
        return same ? "unchanged" : "configured";
    }

    private static bool SameJson(string a, string b)
    {
        using var x = JsonDocument.Parse(a);
        using var y = JsonDocument.Parse(b);
        return JsonElement.DeepEquals(x.RootElement, y.RootElement);
    }

    private static Task<List<ResourceRow>> SelectAsync(DbConnection connection, DbTransaction? transaction, string kind, string name, CancellationToken ct) =>
        DbCommands.QueryAsync(connection, transaction,
            $"SELECT {ResourceColumns} FROM resources WHERE kind = @kind AND name = @name", ReadResource, ct, ("@kind", kind), ("@name", name));

    private static ResourceRow ReadResource(DbDataReader r)
    {
        var labelsJson = DbCommands.NullableString(r, 3);
        var statusJson = DbCommands.NullableString(r, 4);
        var document = new ResourceDocument(
            ResourceKinds.ApiVersion,
            r.GetString(0),
            new ResourceMetadata(
                r.GetString(1),
                labelsJson is null ? null : JsonSerializer.Deserialize<Dictionary<string, string>>(labelsJson, Json),
                r.GetInt64(5),
                DbCommands.FromUnixMs(r.GetInt64(6)),
                DbCommands.FromUnixMs(r.GetInt64(7))),
            JsonSerializer.Deserialize<JsonElement>(r.GetString(2)),
            statusJson is null ? null : JsonSerializer.Deserialize<JsonElement>(statusJson));
        return new ResourceRow(document, r.GetString(2), labelsJson, DbCommands.NullableString(r, 8));
    }

    private static NodeClaim ReadClaim(DbDataReader r) =>
        (JsonSerializer.Deserialize<NodeClaim>(r.GetString(0), Json) ?? throw new InvalidDataException("node_claims.data_json holds JSON null"))
        with { Version = r.GetInt64(1) };

    private async Task<int> ExecuteAsync(string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        var connection = await dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await DbCommands.ExecuteAsync(connection, null, sql, ct, parameters).ConfigureAwait(false);
        }
    }

    private sealed record ResourceRow(ResourceDocument Document, string SpecJson, string? LabelsJson, string? ApplySet);
}
