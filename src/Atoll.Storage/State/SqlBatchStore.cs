using System.Data.Common;
using System.Security.Cryptography;

namespace Atoll.Storage.State;

/// <summary><see cref="IBatchStore"/> on both engines; the queue statements are in <see cref="SqlChunkQueue"/>.</summary>
internal sealed class SqlBatchStore(SqlDialect dialect) : IBatchStore
{
    private readonly SqlChunkQueue queue = new(dialect);

    public Task AddFileAsync(FileRecord file, CancellationToken ct) =>
        ExecuteAsync($"INSERT INTO files ({BatchRows.FileColumns}) VALUES ({BatchRows.Placeholders(BatchRows.FileColumns)})", ct,
            BatchRows.FileParameters(file));

    public async Task<FileRecord?> GetFileAsync(string id, CancellationToken ct) =>
        (await QueryAsync($"SELECT {BatchRows.FileColumns} FROM files WHERE id = @id", BatchRows.File, ct, ("@id", id)).ConfigureAwait(false))
        is [var file] ? file : null;

    public async Task<IReadOnlyList<FileRecord>> ListFilesAsync(string? purpose, string? after, int limit, CancellationToken ct) =>
        await QueryAsync(
            $"SELECT {BatchRows.FileColumns} FROM files WHERE (CAST(@purpose AS TEXT) IS NULL OR purpose = @purpose) " +
            "AND (CAST(@after AS TEXT) IS NULL OR created_at < (SELECT created_at FROM files WHERE id = @after) " +
            $"OR (created_at = (SELECT created_at FROM files WHERE id = @after) AND id{dialect.OrdinalCollation} < @after)) " +
            $"ORDER BY created_at DESC, id{dialect.OrdinalCollation} DESC LIMIT {Math.Clamp(limit, 1, 10_000)}",
            BatchRows.File, ct, ("@purpose", purpose), ("@after", after)).ConfigureAwait(false);

    public async Task<bool> DeleteFileAsync(string id, CancellationToken ct) =>
        await ExecuteAsync("DELETE FROM files WHERE id = @id", ct, ("@id", id)).ConfigureAwait(false) > 0;

    public Task AddBatchAsync(BatchRecord batch, CancellationToken ct) =>
        ExecuteAsync($"INSERT INTO batches ({BatchRows.BatchColumns}) VALUES ({BatchRows.Placeholders(BatchRows.BatchColumns)})", ct,
            BatchRows.BatchParameters(batch));

    public async Task<BatchRecord?> GetBatchAsync(string id, CancellationToken ct) =>
        (await QueryAsync($"SELECT {BatchRows.BatchColumns} FROM batches WHERE id = @id", BatchRows.Batch, ct, ("@id", id)).ConfigureAwait(false))
        is [var batch] ? batch : null;

    public async Task<IReadOnlyList<BatchRecord>> ListBatchesAsync(string? after, int limit, CancellationToken ct) =>
        await QueryAsync(
            $"SELECT {BatchRows.BatchColumns} FROM batches WHERE CAST(@after AS TEXT) IS NULL OR created_at < (SELECT created_at FROM batches WHERE id = @after) " +
            $"OR (created_at = (SELECT created_at FROM batches WHERE id = @after) AND id{dialect.OrdinalCollation} < @after) " +
            $"ORDER BY created_at DESC, id{dialect.OrdinalCollation} DESC LIMIT {Math.Clamp(limit, 1, 10_000)}",
            BatchRows.Batch, ct, ("@after", after)).ConfigureAwait(false);

    public async Task<IReadOnlyList<BatchRecord>> ListBatchesInAsync(IReadOnlyList<string> statuses, CancellationToken ct)
    {
        var names = statuses.Select((_, i) => $"@s{i}").ToArray();
        return await QueryAsync(
            $"SELECT {BatchRows.BatchColumns} FROM batches WHERE status IN ({string.Join(", ", names)}) ORDER BY created_at",
            BatchRows.Batch, ct, [.. statuses.Select((s, i) => ($"@s{i}", (object?)s))]).ConfigureAwait(false);
    }

    public async Task<bool> UpdateBatchAsync(BatchRecord batch, string expectedStatus, CancellationToken ct) =>
        await ExecuteAsync(
            $"UPDATE batches SET {BatchRows.Assignments(BatchRows.BatchColumns)} WHERE id = @id AND status = @expected", ct,
            [.. BatchRows.BatchParameters(batch), ("@expected", expectedStatus)]).ConfigureAwait(false) > 0;

    public async Task<bool> StartBatchAsync(BatchRecord inProgress, IReadOnlyList<ChunkRecord> chunks, CancellationToken ct)
    {
        var connection = await dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await dialect.BeginWriteAsync(connection, ct).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var moved = await DbCommands.ExecuteAsync(connection, transaction,
                    $"UPDATE batches SET {BatchRows.Assignments(BatchRows.BatchColumns)} WHERE id = @id AND status = 'validating'", ct,
                    BatchRows.BatchParameters(inProgress)).ConfigureAwait(false);
                if (moved == 0)
                {
                    await transaction.RollbackAsync(ct).ConfigureAwait(false);
                    return false;
                }
                await using var insert = DbCommands.Create(connection, transaction,
                    $"INSERT INTO batch_chunks ({BatchRows.ChunkColumns}) VALUES (@batch_id, @seq, @start_offset, @end_offset, @first_line, " +
                    "@line_count, 'available', 0, NULL, NULL, NULL, NULL, 0, 0, NULL)",
                    ("@batch_id", inProgress.Id), ("@seq", 0), ("@start_offset", 0L), ("@end_offset", 0L), ("@first_line", 0), ("@line_count", 0));
                foreach (var c in chunks)
                {
                    insert.Parameters["@seq"].Value = c.Seq;
                    insert.Parameters["@start_offset"].Value = c.StartOffset;
                    insert.Parameters["@end_offset"].Value = c.EndOffset;
                    insert.Parameters["@first_line"].Value = c.FirstLine;
                    insert.Parameters["@line_count"].Value = c.LineCount;
                    await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }
                await transaction.CommitAsync(ct).ConfigureAwait(false);
                return true;
            }
        }
    }

    public Task<ChunkLease?> ClaimAsync(string node, IReadOnlyList<string> models, DateTimeOffset now, TimeSpan leaseFor, CancellationToken ct) =>
        queue.ClaimAsync(node, models, NewLeaseToken(), now, leaseFor, ct);

    public Task<LeaseStatus> HeartbeatAsync(string batchId, int seq, string leaseToken, DateTimeOffset now, TimeSpan leaseFor, CancellationToken ct) =>
        queue.HeartbeatAsync(batchId, seq, leaseToken, now, leaseFor, ct);

    public async Task<bool> CompleteAsync(string batchId, int seq, string leaseToken, string resultKey, int succeeded, int failed, CancellationToken ct) =>
        await ExecuteAsync(
            "UPDATE batch_chunks SET state = 'done', result_key = @result_key, succeeded = @succeeded, failed = @failed, lease_token = NULL, " +
            "lease_expires_at = NULL WHERE batch_id = @batch_id AND seq = @seq AND lease_token = @token AND state = 'leased'", ct,
            ("@result_key", resultKey), ("@succeeded", succeeded), ("@failed", failed), ("@batch_id", batchId), ("@seq", seq), ("@token", leaseToken))
            .ConfigureAwait(false) > 0;

    public async Task<bool> FailAttemptAsync(string batchId, int seq, string leaseToken, string error, int maxAttempts, CancellationToken ct) =>
        await ExecuteAsync(
            "UPDATE batch_chunks SET state = CASE WHEN attempt >= @max THEN 'failed' ELSE 'available' END, last_error = @error, " +
            "lease_token = NULL, lease_expires_at = NULL WHERE batch_id = @batch_id AND seq = @seq AND lease_token = @token AND state = 'leased'", ct,
            ("@max", maxAttempts), ("@error", error), ("@batch_id", batchId), ("@seq", seq), ("@token", leaseToken)).ConfigureAwait(false) > 0;

    public Task<int> SweepExpiredAsync(DateTimeOffset now, int maxAttempts, CancellationToken ct) =>
        ExecuteAsync(
            "UPDATE batch_chunks SET state = CASE WHEN attempt >= @max THEN 'failed' ELSE 'available' END, " +
            "last_error = 'lease expired (worker lost)', lease_token = NULL, lease_expires_at = NULL " +
            "WHERE state = 'leased' AND lease_expires_at < @now", ct, ("@max", maxAttempts), ("@now", DbCommands.ToUnixMs(now)));

    public async Task<ChunkSummary> SummarizeAsync(string batchId, CancellationToken ct)
    {
        var rows = await QueryAsync(
            "SELECT state, COUNT(*), COALESCE(SUM(succeeded), 0), COALESCE(SUM(failed), 0) FROM batch_chunks WHERE batch_id = @id GROUP BY state",
            r => (State: r.GetString(0), Count: Convert.ToInt32(r.GetValue(1)), Ok: Convert.ToInt32(r.GetValue(2)), Bad: Convert.ToInt32(r.GetValue(3))),
            ct, ("@id", batchId)).ConfigureAwait(false);
        int Count(string state) => rows.Where(r => r.State == state).Sum(r => r.Count);
        return new ChunkSummary(Count(ChunkStates.Available), Count(ChunkStates.Leased), Count(ChunkStates.Done), Count(ChunkStates.Failed),
            rows.Sum(r => r.Ok), rows.Sum(r => r.Bad));
    }

    public async Task<IReadOnlyList<ChunkRecord>> ListChunksAsync(string batchId, CancellationToken ct) =>
        await QueryAsync($"SELECT {BatchRows.ChunkColumns} FROM batch_chunks WHERE batch_id = @id ORDER BY seq", BatchRows.Chunk, ct, ("@id", batchId))
            .ConfigureAwait(false);

    public Task<int> WithdrawAvailableAsync(string batchId, string reason, CancellationToken ct) =>
        ExecuteAsync("UPDATE batch_chunks SET state = 'failed', last_error = @reason WHERE batch_id = @id AND state = 'available'", ct,
            ("@reason", reason), ("@id", batchId));

    private static string NewLeaseToken() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    private async Task<int> ExecuteAsync(string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        var connection = await dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await DbCommands.ExecuteAsync(connection, null, sql, ct, parameters).ConfigureAwait(false);
        }
    }

    private async Task<List<T>> QueryAsync<T>(string sql, Func<DbDataReader, T> map, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        var connection = await dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await DbCommands.QueryAsync(connection, null, sql, map, ct, parameters).ConfigureAwait(false);
        }
    }
}
