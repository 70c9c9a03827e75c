using System.Globalization;
using Atoll.Storage.Objects;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;

namespace Atoll.Server.Api;

/// <summary>
/// <c>GET</c>/<c>PUT /objects/{key}?expires=…&amp;sig=…</c>: the filesystem object store's signed URLs. Anonymous, the
/// signature is the authorization; with an S3 store the URLs point at S3 and this route has nothing to serve.
/// </summary>
internal static class ObjectEndpoints
{
    private const int CopyBufferSize = 81920;

    public static void MapObjectEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/objects/{**key}", GetAsync).AllowAnonymous();
        app.MapPut("/objects/{**key}", PutAsync).AllowAnonymous();
    }

    private static async Task GetAsync(HttpContext context, string key, CancellationToken ct)
    {
        if (Authorize(context, "GET", key) is { } denied)
        {
            await denied.ExecuteAsync(context).ConfigureAwait(false);
            return;
        }
        var store = (FileObjectStore)context.RequestServices.GetRequiredService<IObjectStore>();
        var info = await store.StatAsync(key, ct).ConfigureAwait(false);
        if (info is null)
        {
            await Problems.NotFound($"object '{key}' does not exist").ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        var response = context.Response;
        response.Headers.AcceptRanges = "bytes";
        long offset = 0;
        var length = info.Size;
        var (kind, first, count) = ParseRange(context.Request, info.Size);
        switch (kind)
        {
            case RangeKind.Unsatisfiable:
                response.Headers.ContentRange = $"bytes */{info.Size}";
                await Problems.Problem(StatusCodes.Status416RangeNotSatisfiable, "Range not satisfiable",
                    $"object '{key}' has {info.Size} bytes; the range '{context.Request.Headers.Range}' lies outside it")
                    .ExecuteAsync(context).ConfigureAwait(false);
                return;
            case RangeKind.Partial:
                (offset, length) = (first, count);
                response.StatusCode = StatusCodes.Status206PartialContent;
                response.Headers.ContentRange = $"bytes {offset}-{offset + length - 1}/{info.Size}";
                break;
            default:
                response.StatusCode = StatusCodes.Status200OK;
                break;
        }

        Stream content;
        try
        {
            content = await store.OpenReadAsync(key, offset, length, ct).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException)
        {
            // Deleted between the stat and the open.
            response.Headers.Remove(HeaderNames.ContentRange);
            await Problems.NotFound($"object '{key}' does not exist").ExecuteAsync(context).ConfigureAwait(false);
            return;
        }
        await using (content.ConfigureAwait(false))
        {
            response.ContentType = "application/octet-stream";
            response.ContentLength = length;
            await content.CopyToAsync(response.Body, CopyBufferSize, ct).ConfigureAwait(false);
        }
    }

    private static async Task<IResult> PutAsync(HttpContext context, string key, CancellationToken ct)
    {
        if (Authorize(context, "PUT", key) is { } denied)
        {
            return denied;
        }
        // The signature authorizes the write; the server-wide body cap is for JSON API requests, not objects.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = null;
        }
        var store = context.RequestServices.GetRequiredService<IObjectStore>();
        await store.PutAsync(key, context.Request.Body, ct).ConfigureAwait(false);
        return Results.Ok();
    }

    /// <summary>Null when the query signs <paramref name="method"/> on <paramref name="key"/>, else the answer to give.</summary>
    private static IResult? Authorize(HttpContext context, string method, string key)
    {
        if (context.RequestServices.GetRequiredService<IObjectStore>() is not FileObjectStore store)
        {
            return Problems.NotFound("objects are served by S3: use the presigned S3 URL the server handed out");
        }
        var query = context.Request.Query;
        if (!long.TryParse(query["expires"], NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
            || query["sig"] is not [{ } sig]
            || !ObjectKeys.IsValid(key))
        {
            return Problems.Forbidden("invalid signature: this URL is not a signed object URL (expires and sig are required)");
        }
        return store.CheckSignedUrl(method, key, expires, sig) switch
        {
            SignedUrlStatus.Valid => null,
            SignedUrlStatus.Expired => Problems.Forbidden("signed URL expired: ask for a new one"),
            _ => Problems.Forbidden($"invalid signature: this URL does not sign a {method} of '{key}'"),
        };
    }

    /// <summary>A single <c>bytes=a-b</c>, <c>bytes=a-</c> or <c>bytes=-n</c> range; anything else is ignored (whole object).</summary>
    private static (RangeKind Kind, long Offset, long Length) ParseRange(HttpRequest request, long size)
    {
        var header = request.Headers.Range.ToString();
        if (header.Length == 0
            || !RangeHeaderValue.TryParse(header, out var range)
            || !string.Equals(range.Unit.Value, "bytes", StringComparison.OrdinalIgnoreCase)
            || range.Ranges.Count != 1)
        {
            return (RangeKind.Whole, 0, size);
        }
        var item = range.Ranges.First();
        long first, last;
        if (item.From is { } from)
        {
            first = from;
            last = Math.Min(item.To ?? size - 1, size - 1);
        }
        else
        {
            // bytes=-n: the last n bytes.
            var suffix = item.To ?? 0;
            first = Math.Max(0, size - suffix);
            last = suffix == 0 ? -1 : size - 1;
        }
        return first >= size || last < first ? (RangeKind.Unsatisfiable, 0, 0) : (RangeKind.Partial, first, last - first + 1);
    }

    private enum RangeKind
    {
        Whole,
        Partial,
        Unsatisfiable,
    }
}
