using System.Text.Json;
using Atoll.Core.Batch;
using Atoll.Storage.Objects;
using Atoll.Storage.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atoll.Server.Batch;

/// <summary>validating → in_progress (chunks queued) or failed (line-numbered errors). Streams the input once.</summary>
internal sealed class BatchValidationStep(IStateStore store, IObjectStore objects, IOptions<ServerOptions> options, TimeProvider time,
    WorkSignal work, ILogger<BatchValidationStep> logger)
{
    public async Task RunAsync(BatchRecord batch, CancellationToken ct)
    {
        var file = await store.Batches.GetFileAsync(batch.InputFileId, ct).ConfigureAwait(false);
        BatchValidation result;
        if (file is null)
        {
            result = new BatchValidation { Errors = [new BatchLineError("file_not_found", null, $"input file {batch.InputFileId} was deleted", "input_file_id")] };
        }
        else
        {
            var input = await objects.OpenReadAsync(file.ObjectKey, 0, null, ct).ConfigureAwait(false);
            await using (input.ConfigureAwait(false))
            {
                result = await BatchInputValidator.ValidateAsync(input, batch.Endpoint, options.Value.Batch.Limits, ct).ConfigureAwait(false);
            }
        }
        var now = time.GetUtcNow();
        if (!result.IsValid)
        {
            var failed = batch with { Status = BatchStatus.Failed, FailedAt = now, ErrorsJson = JsonSerializer.Serialize(result.Errors, BatchJson.Options) };
            await store.Batches.UpdateBatchAsync(failed, BatchStatus.Validating, ct).ConfigureAwait(false);
            logger.LogInformation("Batch {Batch} failed validation with {Errors} error(s), first: {First}", batch.Id, result.Errors.Count, result.Errors[0].Message);
            return;
        }
        var chunks = result.Chunks.Select(c => new ChunkRecord(batch.Id, c.Seq, c.StartOffset, c.EndOffset, c.FirstLine, c.LineCount,
            ChunkStates.Available, 0, null, null, null, null, 0, 0, null)).ToList();
        var started = batch with { Status = BatchStatus.InProgress, Model = result.Model, Total = result.LineCount, InProgressAt = now };
        if (await store.Batches.StartBatchAsync(started, chunks, ct).ConfigureAwait(false))
        {
            logger.LogInformation("Batch {Batch} in progress: {Lines} requests for {Model} in {Chunks} chunks", batch.Id, result.LineCount, result.Model, chunks.Count);
            work.Pulse();
        }
    }
}
