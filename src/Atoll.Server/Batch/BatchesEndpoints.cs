using System.Text.Json;
using Atoll.Core.Batch;
using Atoll.Core.Json;
using Atoll.Server.Api;
using Atoll.Server.Gateway;
using Atoll.Storage.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Atoll.Server.Batch;

/// <summary>OpenAI's Batches API: create, retrieve, list, cancel.</summary>
internal static class BatchesEndpoints
{
    private sealed record CreateBatch(string? InputFileId, string? Endpoint, string? CompletionWindow, Dictionary<string, string>? Metadata);

    public static void MapBatchesEndpoints(this IEndpointRouteBuilder app)
    {
        var batches = app.MapGroup("/v1/batches").AllowAnonymous();
        batches.MapPost("/", CreateAsync);
        batches.MapGet("/", async (HttpContext c, ApiKeyAuthenticator auth, IStateStore store, string? after, int? limit) =>
        {
            if (await auth.RequireAsync(c).ConfigureAwait(false) is null)
            {
                return;
            }
            var take = limit ?? 20;
            if (take is < 1 or > 100)
            {
                await OpenAiErrors.WriteAsync(c, 400, "limit must be between 1 and 100.", "invalid_request_error", null, "limit").ConfigureAwait(false);
                return;
            }
            var page = await store.Batches.ListBatchesAsync(after, take + 1, c.RequestAborted).ConfigureAwait(false);
            var data = new List<OpenAiBatch>();
            foreach (var b in page.Take(take))
            {
                data.Add(await ViewAsync(store, b, c.RequestAborted).ConfigureAwait(false));
            }
            await c.Response.WriteAsJsonAsync(new OpenAiList<OpenAiBatch>(data, data.FirstOrDefault()?.Id, data.LastOrDefault()?.Id, page.Count > take),
                BatchJson.Options, c.RequestAborted).ConfigureAwait(false);
        });
        batches.MapGet("/{id}", async (HttpContext c, string id, ApiKeyAuthenticator auth, IStateStore store) =>
        {
            if (await auth.RequireAsync(c).ConfigureAwait(false) is null || await FindAsync(c, store, id).ConfigureAwait(false) is not { } batch)
            {
                return;
            }
            await c.Response.WriteAsJsonAsync(await ViewAsync(store, batch, c.RequestAborted).ConfigureAwait(false), BatchJson.Options, c.RequestAborted)
                .ConfigureAwait(false);
        });
        batches.MapPost("/{id}/cancel", CancelAsync);
    }

    private static async Task CreateAsync(HttpContext c, ApiKeyAuthenticator auth, IStateStore store, IOptions<ServerOptions> options, TimeProvider time)
    {
        if (await auth.RequireAsync(c).ConfigureAwait(false) is null)
        {
            return;
        }
        var ct = c.RequestAborted;
        var body = await BoundedBody.ReadAsync(c.Request, 64 * 1024, ct).ConfigureAwait(false);
        CreateBatch? request;
        try
        {
            request = body is null ? null : JsonSerializer.Deserialize<CreateBatch>(body, BatchJson.Options);
        }
        catch (JsonException e)
        {
            await Bad(c, $"We could not parse the JSON body of your request: {JsonErrors.Describe(e)}", null).ConfigureAwait(false);
            return;
        }
        if (request is null)
        {
            await Bad(c, "Send a JSON object with input_file_id, endpoint and completion_window.", null).ConfigureAwait(false);
            return;
        }
        if (string.IsNullOrWhiteSpace(request.InputFileId))
        {
            await Bad(c, "Missing required parameter: 'input_file_id'.", "input_file_id").ConfigureAwait(false);
            return;
        }
        if (request.Endpoint is null || !BatchEndpoints.IsSupported(request.Endpoint))
        {
            await Bad(c, $"Invalid endpoint '{request.Endpoint}': use {string.Join(", ", BatchEndpoints.All)}.", "endpoint").ConfigureAwait(false);
            return;
        }
        if (!CompletionWindows.TryParse(request.CompletionWindow ?? CompletionWindows.Default, options.Value.Batch.MaxCompletionWindow, out var window, out var windowError))
        {
            await Bad(c, windowError!, "completion_window").ConfigureAwait(false);
            return;
        }
        if (request.Metadata is { Count: > 16 } || request.Metadata?.Any(m => m.Key.Length > 64 || m.Value.Length > 512) == true)
        {
            await Bad(c, "metadata holds at most 16 pairs, keys up to 64 and values up to 512 characters.", "metadata").ConfigureAwait(false);
            return;
        }
        var file = await store.Batches.GetFileAsync(request.InputFileId, ct).ConfigureAwait(false);
        if (file is null || file.Purpose != FilePurposes.Batch)
        {
            await Bad(c, file is null ? $"No such File object: {request.InputFileId}." : $"File {file.Id} has purpose '{file.Purpose}', not 'batch'.",
                "input_file_id").ConfigureAwait(false);
            return;
        }
        var now = time.GetUtcNow();
        var batch = new BatchRecord(BatchIds.NewBatchId(), request.Endpoint, null, file.Id, request.CompletionWindow ?? CompletionWindows.Default,
            BatchStatus.Validating, null, null, null, request.Metadata is null ? null : JsonSerializer.Serialize(request.Metadata), 0, 0, 0, now,
            ExpiresAt: now + window);
        await store.Batches.AddBatchAsync(batch, ct).ConfigureAwait(false);
        await c.Response.WriteAsJsonAsync(BatchObjects.ToOpenAi(batch), BatchJson.Options, ct).ConfigureAwait(false);
    }

    private static async Task CancelAsync(HttpContext c, string id, ApiKeyAuthenticator auth, IStateStore store, TimeProvider time)
    {
        if (await auth.RequireAsync(c).ConfigureAwait(false) is null || await FindAsync(c, store, id).ConfigureAwait(false) is not { } batch)
        {
            return;
        }
        if (batch.Status is not (BatchStatus.Validating or BatchStatus.InProgress))
        {
            if (batch.Status is BatchStatus.Cancelling or BatchStatus.Cancelled)
            {
                await c.Response.WriteAsJsonAsync(await ViewAsync(store, batch, c.RequestAborted).ConfigureAwait(false), BatchJson.Options, c.RequestAborted)
                    .ConfigureAwait(false);
                return;
            }
            await OpenAiErrors.WriteAsync(c, 409, $"Cannot cancel a batch with status '{batch.Status}'.", "invalid_request_error", "batch_not_cancellable")
                .ConfigureAwait(false);
            return;
        }
        var cancelling = batch with { Status = BatchStatus.Cancelling, CancellingAt = time.GetUtcNow() };
        if (!await store.Batches.UpdateBatchAsync(cancelling, batch.Status, c.RequestAborted).ConfigureAwait(false))
        {
            await OpenAiErrors.WriteAsync(c, 409, "The batch changed status meanwhile; retrieve it and try again.", "invalid_request_error", "conflict")
                .ConfigureAwait(false);
            return;
        }
        await c.Response.WriteAsJsonAsync(await ViewAsync(store, cancelling, c.RequestAborted).ConfigureAwait(false), BatchJson.Options, c.RequestAborted)
            .ConfigureAwait(false);
    }

    /// <summary>Running batches count their lines from the chunks; finished ones from their stored totals.</summary>
    private static async Task<OpenAiBatch> ViewAsync(IStateStore store, BatchRecord batch, CancellationToken ct) =>
        BatchObjects.ToOpenAi(batch, batch.Status is BatchStatus.InProgress or BatchStatus.Cancelling or BatchStatus.Finalizing
            ? await store.Batches.SummarizeAsync(batch.Id, ct).ConfigureAwait(false)
            : null);

    private static async Task<BatchRecord?> FindAsync(HttpContext c, IStateStore store, string id)
    {
        var batch = await store.Batches.GetBatchAsync(id, c.RequestAborted).ConfigureAwait(false);
        if (batch is null)
        {
            await OpenAiErrors.WriteAsync(c, 404, $"No such Batch object: {id}", "invalid_request_error", "batch_not_found", "id").ConfigureAwait(false);
        }
        return batch;
    }

    private static Task Bad(HttpContext c, string message, string? param) =>
        OpenAiErrors.WriteAsync(c, 400, message, "invalid_request_error", null, param);
}
