using Atoll.Core.Fleet;
using Atoll.Providers.Http;

namespace Atoll.Providers.Verda;

/// <summary>
/// Verda's OAuth2 client-credentials token: fetched on first use, reused until shortly before it expires, then
/// renewed with the refresh token (falling back on the client credentials when the refresh is refused, as
/// Verda's own SDK does). Tokens are never logged.
/// </summary>
internal sealed class VerdaTokenSource
{
    // Renew this long before expires_in runs out (or at half the lifetime for very short-lived tokens).
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(60);

    private readonly ProviderContext context;
    private readonly ProviderHttpClient http;
    private readonly Uri tokenUri;
    private readonly Lock gate = new();
    private string? accessToken;
    private string? refreshToken;
    private DateTimeOffset renewAt;
    private Task<string>? renewal;

    public VerdaTokenSource(ProviderContext context, ProviderHttpClient http, Uri baseUri)
    {
        this.context = context;
        this.http = http;
        tokenUri = new Uri(baseUri, "oauth2/token");
    }

    /// <summary>A valid access token; <paramref name="rejected"/> is a token the API just refused (401), which is then replaced.</summary>
    public async Task<string> GetAsync(string? rejected, CancellationToken ct)
    {
        Task<string> task;
        lock (gate)
        {
            if (rejected is not null && rejected == accessToken)
            {
                // The API refused it before its time: the refresh token is suspect too, so start over.
                accessToken = null;
                refreshToken = null;
            }
            if (accessToken is not null && context.Time.GetUtcNow() < renewAt)
            {
                return accessToken;
            }
            // One renewal at a time; concurrent callers share it.
            renewal ??= RenewAsync(accessToken is null ? null : refreshToken);
            task = renewal;
        }
        try
        {
            return await task.WaitAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            lock (gate)
            {
                if (ReferenceEquals(renewal, task) && task.IsCompleted)
                {
                    renewal = null;
                }
            }
        }
    }

    private async Task<string> RenewAsync(string? refresh)
    {
        // Not the caller's token: a renewal shared by several callers must not die with the first one's cancellation
        // (each attempt is bounded by the HTTP options' timeout).
        var ct = CancellationToken.None;
        if (refresh is not null)
        {
            try
            {
                return await RequestAsync(new Dictionary<string, string>
                {
                    ["grant_type"] = "refresh_token",
                    ["refresh_token"] = refresh,
                }, ct).ConfigureAwait(false);
            }
            catch (ProviderException e) when (!e.IsRetryable)
            {
                // An expired or revoked refresh token: the client credentials below get a fresh pair.
            }
        }
        try
        {
            return await RequestAsync(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["client_id"] = context.Secret("clientId"),
                ["client_secret"] = context.Secret("clientSecret"),
            }, ct).ConfigureAwait(false);
        }
        catch (ProviderException e) when (e.Reason is ProviderErrorReason.InvalidRequest or ProviderErrorReason.NotFound)
        {
            throw new ProviderException(ProviderErrorReason.Unauthorized,
                $"provider {context.Name}: Verda refused the client credentials (spec.credentials.clientId, clientSecret): {e.Message}", e);
        }
    }

    private async Task<string> RequestAsync(Dictionary<string, string> grant, CancellationToken ct)
    {
        var requestedAt = context.Time.GetUtcNow();
        using var doc = await http.SendJsonAsync(
            () => ProviderHttpClient.Request(HttpMethod.Post, tokenUri, null, ProviderHttpClient.Json(grant)), ct).ConfigureAwait(false);
        var root = doc.RootElement;
        var token = VerdaJson.Text(root, "access_token")
            ?? throw new ProviderException(ProviderErrorReason.Unauthorized, $"provider {context.Name}: Verda's token endpoint answered no access_token");
        var lifetime = TimeSpan.FromSeconds((double)(VerdaJson.Number(root, "expires_in") ?? 3600m));
        lock (gate)
        {
            refreshToken = VerdaJson.Text(root, "refresh_token");
            renewAt = requestedAt + (lifetime > Margin * 2 ? lifetime - Margin : lifetime / 2);
            accessToken = token;
        }
        return token;
    }
}
