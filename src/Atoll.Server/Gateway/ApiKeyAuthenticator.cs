using System.Collections.Concurrent;
using Atoll.Core.Security;
using Atoll.Storage.State;
using Microsoft.AspNetCore.Http;

namespace Atoll.Server.Gateway;

/// <summary>
/// Resolves the bearer of an OpenAI request to an API key (or the admin token, which may do anything). Lookups are
/// cached for a few seconds by the Authorization header, so the hot path neither hashes nor touches the store; a
/// deleted key stops working within that time. Misses are cached apart from hits and in a smaller table, so that a
/// client trying random keys can neither grow memory without bound nor push the valid keys out of the cache; a bearer
/// longer than any Atoll token is refused without a lookup.
/// </summary>
internal sealed class ApiKeyAuthenticator(IStateStore store, TimeProvider time)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);

    /// <summary>Longer than every token Atoll issues (a prefix and 43 characters of base64url); longer bearers are wrong.</summary>
    public const int MaxTokenLength = 128;

    private const string Missing = "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY' (create one with `atoll keys create`).";
    private const string Incorrect = "Incorrect API key provided. Create one with `atoll keys create --name NAME`.";

    private readonly ConcurrentDictionary<string, (GatewayCaller Caller, DateTimeOffset Until)> hits = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> misses = new(StringComparer.Ordinal);

    /// <summary>How many headers that matched no key are remembered (each at most ~150 bytes).</summary>
    internal int MissCapacity { get; init; } = 10_000;

    /// <summary>How many headers that matched a key are remembered (a key sent with varied spacing or "Bearer" case is several).</summary>
    internal int HitCapacity { get; init; } = 100_000;

    /// <summary>Entries in the two caches, for tests.</summary>
    internal int CachedCount => hits.Count + misses.Count;

    /// <summary>The caller, or null with the reason when the request may not use the gateway.</summary>
    /// <param name="header">The Authorization header as sent ("" when absent).</param>
    public async ValueTask<(GatewayCaller? Caller, string? Problem)> AuthenticateAsync(string header, CancellationToken ct)
    {
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= 7)
        {
            return (null, Missing);
        }
        // Cached by the header as sent, so a repeated key costs a dictionary lookup, not a SHA-256 and a substring.
        var now = time.GetUtcNow();
        if (hits.TryGetValue(header, out var hit) && hit.Until > now)
        {
            return (hit.Caller, null);
        }
        if (header.Length > 7 + MaxTokenLength + 16 || (misses.TryGetValue(header, out var missUntil) && missUntil > now))
        {
            return (null, Incorrect);
        }
        var caller = await LookUpAsync(Tokens.Hash(header[7..].Trim()), ct).ConfigureAwait(false);
        if (caller is null)
        {
            Remember(misses, header, now + CacheFor, MissCapacity, now, until => until);
            return (null, Incorrect);
        }
        Remember(hits, header, (Caller: caller, Until: now + CacheFor), HitCapacity, now, entry => entry.Until);
        return (caller, null);
    }

    /// <summary>Adds an entry; a full table first drops what has expired, and is emptied only if that was not enough.</summary>
    private static void Remember<T>(ConcurrentDictionary<string, T> table, string header, T entry, int capacity, DateTimeOffset now, Func<T, DateTimeOffset> until)
    {
        if (table.Count >= capacity)
        {
            foreach (var (key, value) in table)
            {
                if (until(value) <= now)
                {
                    table.TryRemove(key, out _);
                }
            }
            if (table.Count >= capacity)
            {
                table.Clear();
            }
        }
        table[header] = entry;
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
        await InlineIo.LeaveEventThread();
        if (await store.ApiKeys.FindByHashAsync(hash, ct).ConfigureAwait(false) is { } key)
        {
            return new GatewayCaller(key.Id, key.Name, key.RequestsPerMinute, key.TokensPerMinute, key.MaxConcurrent);
        }
        return await store.IsAdminTokenAsync(hash, ct).ConfigureAwait(false) ? GatewayCaller.Admin : null;
    }
}
