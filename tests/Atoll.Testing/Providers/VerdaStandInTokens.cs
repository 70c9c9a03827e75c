using System.Text.Json.Nodes;

namespace Atoll.Testing.Providers;

/// <summary>The OAuth2 side of a <see cref="VerdaStandIn"/>: issues expiring access tokens and single-use refresh tokens.</summary>
internal sealed class VerdaStandInTokens(TimeProvider time)
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, DateTimeOffset> access = new(StringComparer.Ordinal);
    private readonly HashSet<string> refresh = new(StringComparer.Ordinal);
    private int issued;

    public int Issued => Volatile.Read(ref issued);

    /// <summary>Answers a token request: (status, JSON body).</summary>
    public (int Status, string Body) Grant(JsonNode? body, string clientId, string clientSecret, TimeSpan lifetime)
    {
        var grant = VerdaStandInJson.Text(body, "grant_type");
        lock (gate)
        {
            switch (grant)
            {
                case "client_credentials":
                    if (VerdaStandInJson.Text(body, "client_id") != clientId || VerdaStandInJson.Text(body, "client_secret") != clientSecret)
                    {
                        return (401, VerdaStandInJson.Error("unauthorized_request", "Invalid client credentials"));
                    }
                    break;
                case "refresh_token":
                    if (VerdaStandInJson.Text(body, "refresh_token") is not { } token || !refresh.Remove(token))
                    {
                        return (400, VerdaStandInJson.Error("invalid_request", "Invalid or expired refresh token"));
                    }
                    break;
                default:
                    return (400, VerdaStandInJson.Error("invalid_request", "grant_type must be client_credentials or refresh_token"));
            }
            var n = ++issued;
            var accessToken = $"verda-access-{n}-{Guid.NewGuid():N}";
            var refreshToken = $"verda-refresh-{n}-{Guid.NewGuid():N}";
            access[accessToken] = time.GetUtcNow() + lifetime;
            refresh.Add(refreshToken);
            var answer = new JsonObject
            {
                ["access_token"] = accessToken,
                ["refresh_token"] = refreshToken,
                ["scope"] = "cloud-api-v1",
                ["token_type"] = "Bearer",
                ["expires_in"] = (int)lifetime.TotalSeconds,
            };
            return (200, answer.ToJsonString());
        }
    }

    /// <summary>True for an <c>Authorization</c> header with a token issued here and not expired.</summary>
    public bool IsValid(string authorization)
    {
        const string scheme = "Bearer ";
        if (!authorization.StartsWith(scheme, StringComparison.Ordinal))
        {
            return false;
        }
        lock (gate)
        {
            return access.TryGetValue(authorization[scheme.Length..], out var expires) && time.GetUtcNow() < expires;
        }
    }

    /// <summary>Invalidates every access token (refresh tokens too when <paramref name="refreshTokens"/>).</summary>
    public void Revoke(bool refreshTokens)
    {
        lock (gate)
        {
            access.Clear();
            if (refreshTokens)
            {
                refresh.Clear();
            }
        }
    }
}
