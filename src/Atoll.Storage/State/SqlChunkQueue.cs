namespace Atoll.Storage.State;

/// <summary>
/// The claim and heartbeat statements of the chunk queue, in the style of River: one UPDATE whose subquery picks
/// the oldest available chunk, skipping rows other claimers hold on PostgreSQL; inside SQLite's immediate write
/// transaction nobody else can claim at the same time.
/// </summary>
internal sealed class SqlChunkQueue(SqlDialect dialect)
{
    public async Task<ChunkLease?> ClaimAsync(
        string node, IReadOnlyList<string> models, string token, DateTimeOffset now, TimeSpan leaseFor, CancellationToken ct)
    {
        if (models.Count == 0)
        {
            return null;
        }
        var modelNames = models.Select((_, i) => $"@m{i}").ToArray();
        var expires = now + leaseFor;
        var connection = await dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await dialect.BeginWriteAsync(connection, ct).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var claimed = await DbCommands.QueryAsync(connection, transaction,
                    "UPDATE batch_chunks SET state = 'leased', attempt = attempt + 1, lease_token = @token, lease_expires_at = @expires, " +
                    "worker_node = @node WHERE (batch_id, seq) = (SELECT bc.batch_id, bc.seq FROM batch_chunks bc " +
                    "JOIN batches b ON b.id = bc.batch_id WHERE bc.state = 'available' AND b.status = 'in_progress' " +
                    $"AND b.model IN ({string.Join(", ", modelNames)}) ORDER BY b.created_at, bc.batch_id, bc.seq LIMIT 1{dialect.ClaimLockClause}) " +
                    "RETURNING batch_id, seq, attempt, start_offset, end_offset, first_line, line_count",
                    r => (BatchId: r.GetString(0), Seq: r.GetInt32(1), Attempt: r.GetInt32(2), Start: r.GetInt64(3), End: r.GetInt64(4),
                        FirstLine: r.GetInt32(5), Lines: r.GetInt32(6)),
                    ct,
                    [("@token", token), ("@expires", DbCommands.ToUnixMs(expires)), ("@node", node),
                        .. models.Select((m, i) => ($"@m{i}", (object?)m))]).ConfigureAwait(false);
                if (claimed is not [var c])
                {
                    await transaction.CommitAsync(ct).ConfigureAwait(false);
                    return null;
                }
                var batch = await DbCommands.QueryAsync(connection, transaction,
                    "SELECT f.object_key, b.endpoint, b.model FROM batches b JOIN files f ON f.id = b.input_file_id WHERE b.id = @id",
                    r => (Key: r.GetString(0), Endpoint: r.GetString(1), Model: r.GetString(2)), ct, ("@id", c.BatchId)).ConfigureAwait(false);
                await transaction.CommitAsync(ct).ConfigureAwait(false);
                return batch is [var b]
                    ? new ChunkLease(c.BatchId, c.Seq, token, c.Attempt, expires, c.Start, c.End, c.FirstLine, c.Lines, b.Key, b.Endpoint, b.Model)
                    : null;
            }
        }
    }

    public async Task<LeaseStatus> HeartbeatAsync(string batchId, int seq, string token, DateTimeOffset now, TimeSpan leaseFor, CancellationToken ct)
    {
        var connection = await dialect.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var extended = await DbCommands.ExecuteAsync(connection, null,
                "UPDATE batch_chunks SET lease_expires_at = @expires WHERE batch_id = @batch_id AND seq = @seq AND lease_token = @token " +
                "AND state = 'leased'", ct,
                ("@expires", DbCommands.ToUnixMs(now + leaseFor)), ("@batch_id", batchId), ("@seq", seq), ("@token", token)).ConfigureAwait(false);
            if (extended == 0)
            {
                return LeaseStatus.Lost;
            }
            var status = await DbCommands.QueryAsync(connection, null, "SELECT status FROM batches WHERE id = @id", r => r.GetString(0), ct,
                ("@id", batchId)).ConfigureAwait(false);
            return status is ["in_progress"] ? LeaseStatus.Extended : LeaseStatus.Cancelled;
        }
    }
}
