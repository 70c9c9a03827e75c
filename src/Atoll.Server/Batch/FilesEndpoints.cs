using Atoll.Core.Batch;
using Atoll.Server.Gateway;
using Atoll.Storage.Objects;
using Atoll.Storage.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Atoll.Server.Batch;

/// <summary>OpenAI's Files API for batch input and output: uploads stream into the object store, never held whole.</summary>
internal static class FilesEndpoints
{
    public static void MapFilesEndpoints(this IEndpointRouteBuilder app)
    {
        var files = app.MapGroup("/v1/files").AllowAnonymous();
        files.MapPost("/", UploadAsync);
        files.MapGet("/", async (HttpContext c, ApiKeyAuthenticator auth, IStateStore store, string? purpose, string? after, int? limit) =>
        {
            if (await auth.RequireAsync(c).ConfigureAwait(false) is null)
            {
                return;
            }
            var take = Math.Clamp(limit ?? 100, 1, 10_000);
            var page = await store.Batches.ListFilesAsync(purpose, after, take + 1, c.RequestAborted).ConfigureAwait(false);
            var data = page.Take(take).Select(BatchObjects.ToOpenAi).ToList();
            await c.Response.WriteAsJsonAsync(new OpenAiList<OpenAiFile>(data, data.FirstOrDefault()?.Id, data.LastOrDefault()?.Id, page.Count > take),
                BatchJson.Options, c.RequestAborted).ConfigureAwait(false);
        });
        files.MapGet("/{id}", async (HttpContext c, string id, ApiKeyAuthenticator auth, IStateStore store) =>
        {
            if (await auth.RequireAsync(c).ConfigureAwait(false) is null || await FindAsync(c, store, id).ConfigureAwait(false) is not { } file)
            {
                return;
            }
            await c.Response.WriteAsJsonAsync(BatchObjects.ToOpenAi(file), BatchJson.Options, c.RequestAborted).ConfigureAwait(false);
        });
        files.MapGet("/{id}/content", async (HttpContext c, string id, ApiKeyAuthenticator auth, IStateStore store, IObjectStore objects) =>
        {
            if (await auth.RequireAsync(c).ConfigureAwait(false) is null || await FindAsync(c, store, id).ConfigureAwait(false) is not { } file)
            {
                return;
            }
            var content = await objects.OpenReadAsync(file.ObjectKey, 0, null, c.RequestAborted).ConfigureAwait(false);
            await using (content.ConfigureAwait(false))
            {
                c.Response.ContentType = "application/jsonl";
                c.Response.ContentLength = file.Bytes;
                await content.CopyToAsync(c.Response.Body, c.RequestAborted).ConfigureAwait(false);
            }
        });
        files.MapDelete("/{id}", async (HttpContext c, string id, ApiKeyAuthenticator auth, IStateStore store, IObjectStore objects) =>
        {
            if (await auth.RequireAsync(c).ConfigureAwait(false) is null || await FindAsync(c, store, id).ConfigureAwait(false) is not { } file)
            {
                return;
            }
            var active = await store.Batches.ListBatchesInAsync(
                [BatchStatus.Validating, BatchStatus.InProgress, BatchStatus.Cancelling, BatchStatus.Finalizing], c.RequestAborted).ConfigureAwait(false);
            if (active.FirstOrDefault(b => b.InputFileId == id) is { } user)
            {
                await OpenAiErrors.WriteAsync(c, 409, $"File {id} is the input of batch {user.Id}, which is {user.Status}; delete it once the batch has ended.",
                    "invalid_request_error", "file_in_use", "id").ConfigureAwait(false);
                return;
            }
            await store.Batches.DeleteFileAsync(id, c.RequestAborted).ConfigureAwait(false);
            await objects.DeleteAsync(file.ObjectKey, c.RequestAborted).ConfigureAwait(false);
            await c.Response.WriteAsJsonAsync(new OpenAiFileDeleted(id), BatchJson.Options, c.RequestAborted).ConfigureAwait(false);
        });
    }

    private static async Task<FileRecord?> FindAsync(HttpContext c, IStateStore store, string id)
    {
        var file = await store.Batches.GetFileAsync(id, c.RequestAborted).ConfigureAwait(false);
        if (file is null)
        {
            await OpenAiErrors.WriteAsync(c, 404, $"No such File object: {id}", "invalid_request_error", "file_not_found", "id").ConfigureAwait(false);
        }
        return file;
    }

    private static async Task UploadAsync(
        HttpContext c, ApiKeyAuthenticator auth, IStateStore store, IObjectStore objects, IOptions<ServerOptions> options, TimeProvider time)
    {
        if (await auth.RequireAsync(c).ConfigureAwait(false) is null)
        {
            return;
        }
        var ct = c.RequestAborted;
        if (!MediaTypeHeaderValue.TryParse(c.Request.ContentType, out var type) || !type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(type.Boundary).Value is not { Length: > 0 } boundary)
        {
            await Bad(c, "Send the file as multipart/form-data with the fields 'purpose' and 'file'.", null).ConfigureAwait(false);
            return;
        }
        var max = options.Value.Batch.MaxFileBytes;
        var reader = new MultipartReader(boundary, c.Request.Body) { BodyLengthLimit = null };
        string? purpose = null;
        FileRecord? stored = null;
        while (await reader.ReadNextSectionAsync(ct).ConfigureAwait(false) is { } section)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
            {
                continue;
            }
            var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
            if (name == "purpose")
            {
                purpose = (await new StreamReader(section.Body).ReadToEndAsync(ct).ConfigureAwait(false)).Trim();
            }
            else if (name == "file" && stored is null)
            {
                var id = BatchIds.NewFileId();
                var filename = HeaderUtilities.RemoveQuotes(disposition.FileName).Value ?? HeaderUtilities.RemoveQuotes(disposition.FileNameStar).Value ?? "upload.jsonl";
                var counted = new LimitedReadStream(section.Body, max);
                try
                {
                    await objects.PutAsync(BatchObjects.FileKey(id), counted, ct).ConfigureAwait(false);
                }
                catch (InvalidDataException) when (counted.LimitExceeded)
                {
                    await objects.DeleteAsync(BatchObjects.FileKey(id), CancellationToken.None).ConfigureAwait(false);
                    await OpenAiErrors.WriteAsync(c, 413, $"File is larger than the limit of {max} bytes.", "invalid_request_error", "file_too_large", "file")
                        .ConfigureAwait(false);
                    return;
                }
                stored = new FileRecord(id, Path.GetFileName(filename), FilePurposes.Batch, counted.BytesRead, BatchObjects.FileKey(id), time.GetUtcNow());
            }
        }
        if (stored is null)
        {
            await Bad(c, "Missing the 'file' field.", "file").ConfigureAwait(false);
            return;
        }
        if (purpose != FilePurposes.Batch)
        {
            await objects.DeleteAsync(stored.ObjectKey, CancellationToken.None).ConfigureAwait(false);
            await Bad(c, $"Invalid purpose '{purpose}': this server accepts purpose 'batch' only.", "purpose").ConfigureAwait(false);
            return;
        }
        await store.Batches.AddFileAsync(stored, ct).ConfigureAwait(false);
        await c.Response.WriteAsJsonAsync(BatchObjects.ToOpenAi(stored), BatchJson.Options, ct).ConfigureAwait(false);
    }

    private static Task Bad(HttpContext c, string message, string? param) =>
        OpenAiErrors.WriteAsync(c, 400, message, "invalid_request_error", null, param);
}
