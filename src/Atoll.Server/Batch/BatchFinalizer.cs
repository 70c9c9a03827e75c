using Atoll.Core.Batch;
using Atoll.Storage.Objects;
using Atoll.Storage.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atoll.Server.Batch;

/// <summary>
/// Produces a batch's output and error files by streaming its chunk results (deduplicated by custom_id, first success
/// wins) through temporary files into the object store, adds an error line for every request that never ran (with
/// the code of why), and moves the batch to its final status. Safe to run again after a crash: file ids are fixed.
/// </summary>
internal sealed class BatchFinalizer(IStateStore store, IObjectStore objects, IOptions<ServerOptions> options, TimeProvider time,
    ILogger<BatchFinalizer> logger)
{
    public async Task RunAsync(BatchRecord batch, string finalStatus, string unfinishedCode, CancellationToken ct)
    {
        var chunks = await store.Batches.ListChunksAsync(batch.Id, ct).ConfigureAwait(false);
        var input = await store.Batches.GetFileAsync(batch.InputFileId, ct).ConfigureAwait(false);
        var dedup = new ResultDeduplicator();
        foreach (var chunk in chunks.Where(c => c.State == ChunkStates.Done))
        {
            await foreach (var line in ReadAsync(chunk.ResultKey!, 0, null, ct).ConfigureAwait(false))
            {
                dedup.Observe(line);
            }
        }

        var tempDir = Path.Combine(options.Value.DataDir, "tmp");
        Directory.CreateDirectory(tempDir);
        var outPath = Path.Combine(tempDir, $"{batch.Id}.output.jsonl");
        var errPath = Path.Combine(tempDir, $"{batch.Id}.errors.jsonl");
        var extraErrors = 0;
        try
        {
            await using (var output = File.Create(outPath))
            await using (var errors = File.Create(errPath))
            {
                foreach (var chunk in chunks.Where(c => c.State == ChunkStates.Done))
                {
                    await foreach (var line in ReadAsync(chunk.ResultKey!, 0, null, ct).ConfigureAwait(false))
                    {
                        var target = dedup.Decide(line) switch
                        {
                            ResultDisposition.Output => output,
                            ResultDisposition.Error => errors,
                            _ => null,
                        };
                        await WriteLineAsync(target, line, ct).ConfigureAwait(false);
                    }
                }
                // The input is kept while a batch runs (DELETE /v1/files refuses); should it vanish anyway, the
                // finished results are still published and the lines that never ran cannot be named.
                foreach (var chunk in input is null ? [] : chunks.Where(c => c.State != ChunkStates.Done))
                {
                    // A chunk that failed its attempts says why; one that never ran (or was stopped) gets the batch's reason.
                    var stopped = chunk.State != ChunkStates.Failed || chunk.LastError is BatchResultCodes.BatchCancelled or BatchResultCodes.BatchExpired;
                    var (code, message) = stopped
                        ? (unfinishedCode, unfinishedCode == BatchResultCodes.BatchCancelled ? "the batch was cancelled before this request ran"
                            : "the batch expired before this request ran")
                        : (BatchResultCodes.UpstreamFailed, $"gave up after {chunk.Attempt} attempt(s): {chunk.LastError}");
                    await foreach (var line in ReadAsync(input!.ObjectKey, chunk.StartOffset, chunk.EndOffset - chunk.StartOffset, ct).ConfigureAwait(false))
                    {
                        // The input was validated before it was queued, so every line parses.
                        var customId = BatchRequestLine.Parse(line).CustomId;
                        if (!dedup.HasResult(customId))
                        {
                            await WriteLineAsync(errors, BatchResultLine.Failure(customId, code, message), ct).ConfigureAwait(false);
                            extraErrors++;
                        }
                    }
                }
            }
            var now = time.GetUtcNow();
            var outputId = await PublishAsync(batch, BatchObjects.OutputFileId(batch.Id), "output", outPath, dedup.OutputCount, now, ct).ConfigureAwait(false);
            var errorId = await PublishAsync(batch, BatchObjects.ErrorFileId(batch.Id), "errors", errPath, dedup.ErrorCount + extraErrors, now, ct).ConfigureAwait(false);
            var done = batch with
            {
                Status = finalStatus,
                OutputFileId = outputId,
                ErrorFileId = errorId,
                Completed = dedup.OutputCount,
                Failed = dedup.ErrorCount + extraErrors,
                FinalizingAt = batch.FinalizingAt ?? now,
                CompletedAt = finalStatus == BatchStatus.Completed ? now : null,
                CancelledAt = finalStatus == BatchStatus.Cancelled ? now : null,
                ExpiredAt = finalStatus == BatchStatus.Expired ? now : null,
            };
            if (await store.Batches.UpdateBatchAsync(done, batch.Status, ct).ConfigureAwait(false))
            {
                logger.LogInformation("Batch {Batch} {Status}: {Completed} succeeded, {Failed} failed", batch.Id, finalStatus, done.Completed, done.Failed);
                await RemoveChunkResultsAsync(chunks, ct).ConfigureAwait(false);
            }
        }
        finally
        {
            File.Delete(outPath);
            File.Delete(errPath);
        }
    }

    /// <summary>The per-chunk results now live in the output and error files; drop them (best effort).</summary>
    private async Task RemoveChunkResultsAsync(IReadOnlyList<ChunkRecord> chunks, CancellationToken ct)
    {
        foreach (var key in chunks.Select(c => c.ResultKey).OfType<string>())
        {
            try
            {
                await objects.DeleteAsync(key, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                logger.LogWarning("Could not remove chunk result {Key}: {Error}", key, e.Message);
            }
        }
    }

    private async Task<string?> PublishAsync(BatchRecord batch, string fileId, string kind, string path, int lines, DateTimeOffset now, CancellationToken ct)
    {
        if (lines == 0)
        {
            return null;
        }
        var key = BatchObjects.FileKey(fileId);
        await using (var content = File.OpenRead(path))
        {
            await objects.PutAsync(key, content, ct).ConfigureAwait(false);
        }
        await store.Batches.DeleteFileAsync(fileId, ct).ConfigureAwait(false);
        await store.Batches.AddFileAsync(new FileRecord(fileId, $"{batch.Id}_{kind}.jsonl", FilePurposes.BatchOutput, new FileInfo(path).Length, key, now), ct)
            .ConfigureAwait(false);
        return fileId;
    }

    private async IAsyncEnumerable<byte[]> ReadAsync(string key, long offset, long? length, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var stream = await objects.OpenReadAsync(key, offset, length, ct).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            await foreach (var line in ChunkReader.ReadLines(stream, ct).ConfigureAwait(false))
            {
                yield return line;
            }
        }
    }

    private static async Task WriteLineAsync(Stream? target, byte[] line, CancellationToken ct)
    {
        if (target is null)
        {
            return;
        }
        await target.WriteAsync(line, ct).ConfigureAwait(false);
        if (line.Length == 0 || line[^1] != (byte)'\n')
        {
            target.WriteByte((byte)'\n');
        }
    }
}
