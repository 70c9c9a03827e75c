using System.Collections.Concurrent;
using Atoll.Core.Security;
using Atoll.Storage.State;
using Microsoft.AspNetCore.Http;

namespace Atoll.Server.Gateway;

/// <summary>
/// Resolves the bearer of an OpenAI request to an API key (or the admin token, which may do anything). Lookups are
/// cached for a few seconds by the Authorization header, hits and misses alike, so the hot path neither hashes nor
/// touches the store; a deleted key stops working within that time.
/// </summary>
internal sealed class ApiKeyAuthenticator(IStateStore store, TimeProvider time)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, (GatewayCaller? Caller, DateTimeOffset Until)> cache = new(StringComparer.Ordinal);

    /// <summary>The caller, or null with the reason when the request may not use the gateway.</summary>
    /// <param name="header">The Authorization header as sent ("" when absent).</param>
    public async ValueTask<(GatewayCaller? Caller, string? Problem)> AuthenticateAsync(string header, CancellationToken ct)
    {
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= 7)
        {
            return (null, "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY' (create one with `atoll keys create`).");
        }
        // Cached by the header as sent, so a repeated key costs a dictionary lookup, not a SHA-256 and a substring.
        var now = time.GetUtcNow();
        if (!cache.TryGetValue(header, out var cached) || cached.Until <= now)
        {
            var hash = Tokens.Hash(header[7..].Trim());
            cached = (await LookUpAsync(hash, ct).ConfigureAwait(false), now + CacheFor);
            if (cache.Count > 100_000)
            {
                cache.Clear();
            }
            cache[header] = cached;
        }
        return cached.Caller is null
            ? (null, "Incorrect API key provided. Create one with `atoll keys create --name NAME`.")
            : (cached.Caller, null);
    }

    /// <summary>The caller, or null after answering 401 in OpenAI's error shape.</summary>
    public async ValueTask<GatewayCaller?> RequireAsync(HttpContext context)
    {
        var (caller, denied) = await AuthenticateAsync(context.Request.Headers.Authorization.ToString(), context.RequestAborted).ConfigureAwait(false);
        if (caller is null)
        {
            await OpenAiErrors.WriteAsync(context, 401, denied!, "invalid_request_error", "invalid_api_key").ConfigureAwait(false);
        }
        return caller;
    }

    private async Task<GatewayCaller?> LookUpAsync(string hash, CancellationToken ct)
    {
        // The store may block (SQLite): never on a socket event thread, where forwarded requests run.
        await InlineIo.LeaveEventThreadAsync().ConfigureAwait(false);
        if (await store.ApiKeys.FindByHashAsync(hash, ct).ConfigureAwait(false) is { } key)
        {
            return new GatewayCaller(key.Id, key.Name, key.RequestsPerMinute, key.TokensPerMinute);
        }
        return await store.IsAdminTokenAsync(hash, ct).ConfigureAwait(false) ? GatewayCaller.Admin : null;
    }
}
