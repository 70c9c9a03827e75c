using System.Net;
using System.Text.Json;
using Atoll.Core.Fleet;
using Atoll.Providers.Http;

namespace Atoll.Providers.Verda;

/// <summary>Turns Verda's error body <c>{"code","message"}</c> into a typed <see cref="ProviderException"/> carrying Verda's message.</summary>
internal static class VerdaErrors
{
    public const string InvalidRequest = "invalid_request";
    public const string UnauthorizedRequest = "unauthorized_request";
    public const string InsufficientFunds = "insufficient_funds";
    public const string ForbiddenAction = "forbidden_action";
    public const string NotFound = "not_found";
    public const string ServerError = "server_error";
    public const string ServiceUnavailable = "service_unavailable";

    public static ProviderException Classify(string provider, HttpStatusCode status, string body)
    {
        var (code, message) = Read(body);
        var reason = (int)status switch
        {
            429 => ProviderErrorReason.RateLimited,
            >= 500 => ProviderErrorReason.Transient,
            401 => ProviderErrorReason.Unauthorized,
            _ => code switch
            {
                UnauthorizedRequest => ProviderErrorReason.Unauthorized,
                InsufficientFunds => ProviderErrorReason.QuotaExceeded,
                NotFound => ProviderErrorReason.NotFound,
                ServerError or ServiceUnavailable => ProviderErrorReason.Transient,
                // An action the instance's state does not allow: the request, not the credentials, is wrong.
                InvalidRequest or ForbiddenAction => ProviderErrorReason.InvalidRequest,
                _ => ProviderHttpClient.ReasonOf(status),
            },
        };
        var text = message ?? (string.IsNullOrWhiteSpace(body) ? status.ToString() : Truncate(body));
        var tag = code is null ? $"HTTP {(int)status}" : $"{code}, HTTP {(int)status}";
        return new ProviderException(reason, $"{provider}: {text} ({tag})");
    }

    private static (string? Code, string? Message) Read(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return (VerdaJson.Text(doc.RootElement, "code"), VerdaJson.Text(doc.RootElement, "message"));
        }
        catch (JsonException)
        {
            // Not Verda's JSON (a proxy's page): the caller falls back on the status code and raw text.
            return (null, null);
        }
    }

    private static string Truncate(string text) => text.Length <= 200 ? text : text[..200] + "…";
}
