using System.Net;
using System.Text.Json;
using Atoll.Core.Fleet;
using Atoll.Providers.Http;

namespace Atoll.Providers.Hetzner;

/// <summary>
/// Hetzner's <c>{"error":{"code","message","details"}}</c> into typed reasons, by code first: capacity and quota
/// errors come as 403/412, which by status alone would read as a refused token.
/// </summary>
internal static class HetznerErrors
{
    public static ProviderException Classify(string provider, HttpStatusCode status, string body)
    {
        var (code, message) = Parse(body);
        var reason = code switch
        {
            "resource_unavailable" or "placement_error" => ProviderErrorReason.InsufficientCapacity,
            "resource_limit_exceeded" => ProviderErrorReason.QuotaExceeded,
            "unauthorized" or "forbidden" or "token_readonly" => ProviderErrorReason.Unauthorized,
            "rate_limit_exceeded" => ProviderErrorReason.RateLimited,
            "invalid_input" or "json_error" or "uniqueness_error" or "unsupported_error" or "protected" => ProviderErrorReason.InvalidRequest,
            "not_found" => ProviderErrorReason.NotFound,
            // locked: another action runs on the resource; conflict: it changed meanwhile. Both pass by themselves.
            "server_error" or "service_error" or "unavailable" or "maintenance" or "timeout" or "locked" or "conflict" => ProviderErrorReason.Transient,
            _ => ProviderHttpClient.ReasonOf(status),
        };
        var what = code is null ? $"{(int)status}" : $"{(int)status} {code}";
        return new ProviderException(reason, $"{provider}: Hetzner answered {what}: {message}");
    }

    private static (string? Code, string Message) Parse(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (HetznerJson.Prop(doc.RootElement, "error") is { } error)
            {
                return (HetznerJson.Str(error, "code"), HetznerJson.Str(error, "message") ?? "");
            }
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's page): the body is the message.
        }
        return (null, body.Length > 300 ? body[..300] : body);
    }
}
