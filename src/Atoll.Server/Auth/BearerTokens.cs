using Microsoft.AspNetCore.Http;

namespace Atoll.Server.Auth;

/// <summary>Reads the <c>Authorization: Bearer</c> header.</summary>
internal static class BearerTokens
{
    public static string? From(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string prefix = "Bearer ";
        return header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && header.Length > prefix.Length
            ? header[prefix.Length..].Trim()
            : null;
    }
}
