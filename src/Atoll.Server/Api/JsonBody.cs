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
        if (request.ContentType is { } type && !type.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            return (null, Problems.Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"content type '{type}' is not accepted: send application/json"));
        }
        try
        {
            var body = await BoundedBody.ReadAsync(request, max, ct).ConfigureAwait(false);
            if (body is null)
            {
                return (null, Problems.Problem(StatusCodes.Status413PayloadTooLarge, "Payload too large",
                    $"request body is over the limit of {max} bytes"));
            }
            var value = JsonSerializer.Deserialize<T>(body, Options);
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
