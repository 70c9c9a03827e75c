using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Atoll.Server.Api;

/// <summary>
/// Reads a JSON request body with a clear error: which field had the wrong type, or where the JSON broke.
/// (Minimal-API binding answers a bare 400 without saying why.)
/// </summary>
internal static class JsonBody
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public static async Task<(T? Value, IResult? Error)> ReadAsync<T>(HttpRequest request, CancellationToken ct)
        where T : class
    {
        if (request.ContentLength == 0)
        {
            return (null, Problems.BadRequest("request body is empty: send a JSON object"));
        }
        var max = request.HttpContext.RequestServices.GetRequiredService<IOptions<ServerOptions>>().Value.MaxRequestBodyBytes;
        if (request.ContentLength > max)
        {
            return (null, Problems.Problem(StatusCodes.Status413PayloadTooLarge, "Payload too large",
                $"request body of {request.ContentLength} bytes is over the limit of {max} bytes"));
        }
        if (request.ContentType is { } type && !type.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            return (null, Problems.Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"content type '{type}' is not accepted: send application/json"));
        }
        try
        {
            // Control-plane bodies are small: buffer them with a cap, which also covers chunked uploads
            // that carry no Content-Length.
            using var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await request.Body.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > max)
                {
                    return (null, Problems.Problem(StatusCodes.Status413PayloadTooLarge, "Payload too large",
                        $"request body is over the limit of {max} bytes"));
                }
                buffer.Write(chunk, 0, read);
            }
            buffer.Position = 0;
            var value = await JsonSerializer.DeserializeAsync<T>(buffer, Options, ct).ConfigureAwait(false);
            return value is null
                ? (null, Problems.BadRequest("request body is null: send a JSON object"))
                : (value, null);
        }
        catch (JsonException e)
        {
            var where = e.Path is { Length: > 1 } path ? $" at {path}" : "";
            var line = e.LineNumber is { } l ? $" (line {l + 1}, byte {e.BytePositionInLine + 1})" : "";
            return (null, Problems.BadRequest($"malformed JSON{where}{line}: {FirstSentence(e.Message)}"));
        }
        catch (BadHttpRequestException e)
        {
            return (null, Problems.Problem(e.StatusCode, "Bad request", e.Message));
        }
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
