using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Atoll.Server.Gateway;

/// <summary>Errors in OpenAI's shape, <c>{"error":{"message","type","param","code"}}</c>, which the SDKs turn into exceptions.</summary>
internal static class OpenAiErrors
{
    public static Task WriteAsync(HttpContext context, int status, string message, string type, string? code = null, string? param = null,
        TimeSpan? retryAfter = null) =>
        new KestrelClient(context).WriteErrorAsync(status, message, type, code, param, retryAfter).AsTask();

    /// <summary>The JSON of an error object.</summary>
    public static string Body(string message, string type, string? code, string? param) =>
        JsonSerializer.Serialize(new { error = new { message, type, param, code } });

    /// <summary>An SSE event that tells a streaming client its answer ended in an error.</summary>
    public static string StreamEvent(string message, string code) =>
        $"data: {Body(message, "server_error", code, null)}\n\n";
}
