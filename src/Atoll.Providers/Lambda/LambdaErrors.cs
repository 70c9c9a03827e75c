using System.Net;
using System.Text.Json;
using Atoll.Core.Fleet;
using Atoll.Providers.Http;

namespace Atoll.Providers.Lambda;

/// <summary>
/// Turns Lambda's error body <c>{"error":{"code","message","suggestion"},"field_errors":{}}</c> into a typed
/// <see cref="ProviderException"/> whose message carries Lambda's own message and suggestion.
/// </summary>
internal static class LambdaErrors
{
    public const string InsufficientCapacity = "instance-operations/launch/insufficient-capacity";
    public const string QuotaExceeded = "global/quota-exceeded";
    public const string InvalidApiKey = "global/invalid-api-key";
    public const string AccountInactive = "global/account-inactive";
    public const string NotFound = "global/object-does-not-exist";
    public const string InvalidParameters = "global/invalid-parameters";

    public static ProviderException Classify(string provider, HttpStatusCode status, string body)
    {
        var (code, message, suggestion) = Read(body);
        var reason = (int)status switch
        {
            429 => ProviderErrorReason.RateLimited,
            >= 500 => ProviderErrorReason.Transient,
            _ => code switch
            {
                InsufficientCapacity => ProviderErrorReason.InsufficientCapacity,
                QuotaExceeded => ProviderErrorReason.QuotaExceeded,
                InvalidApiKey or AccountInactive => ProviderErrorReason.Unauthorized,
                NotFound => ProviderErrorReason.NotFound,
                InvalidParameters => ProviderErrorReason.InvalidRequest,
                _ => ProviderHttpClient.ReasonOf(status),
            },
        };
        var text = message ?? (string.IsNullOrWhiteSpace(body) ? status.ToString() : Truncate(body));
        if (suggestion is not null)
        {
            text += $" Suggestion: {suggestion}";
        }
        var tag = code is null ? $"HTTP {(int)status}" : $"{code}, HTTP {(int)status}";
        return new ProviderException(reason, $"{provider}: {text} ({tag})");
    }

    private static (string? Code, string? Message, string? Suggestion) Read(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var error))
            {
                var message = LambdaJson.Text(error, "message");
                if (doc.RootElement.TryGetProperty("field_errors", out var fields) && fields.ValueKind == JsonValueKind.Object)
                {
                    var details = fields.EnumerateObject().Select(f => $"{f.Name}: {LambdaJson.Text(f.Value, "message") ?? f.Value.ToString()}").ToList();
                    if (details.Count > 0)
                    {
                        message = $"{message} [{string.Join("; ", details)}]";
                    }
                }
                return (LambdaJson.Text(error, "code"), message, LambdaJson.Text(error, "suggestion"));
            }
        }
        catch (JsonException)
        {
            // Not Lambda's JSON (a proxy's HTML page, say): the caller falls back on the status code and raw text.
        }
        return (null, null, null);
    }

    private static string Truncate(string text) => text.Length <= 200 ? text : text[..200] + "…";
}
