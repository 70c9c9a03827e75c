using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Atoll.Server.Gateway;

/// <summary>Errors in OpenAI's shape, <c>{"error":{"message","type","param","code"}}</c>, which the SDKs turn into exceptions.</summary>
internal static class OpenAiErrors
{
    public static Task WriteAsync(HttpContext context, int status, string message, string type, string? code = null, string? param = null,
        TimeSpan? retryAfter = null) =>
        new KestrelClient(context).WriteErrorAsync(status, message, type, code, param, retryAfter).AsTask();

    /// <summary>
    /// Messages keep their quotes and backticks as written (<c>'messages'</c>, not <c>\u0027messages\u0027</c>), as
    /// OpenAI's own errors do: the body is JSON for API clients and people reading curl output, never embedded in HTML.
    /// </summary>
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The JSON of an error object.</summary>
    public static string Body(string message, string type, string? code, string? param) =>
        JsonSerializer.Serialize(new { error = new { message, type, param, code } }, Json);

    /// <summary>An SSE event that tells a streaming client its answer ended in an error.</summary>
    public static string StreamEvent(string message, string code) =>
        $"data: {Body(message, "server_error", code, null)}\n\n";
}
