using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Providers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atoll.Server.Fleet;

/// <summary>
/// Each provider's offers, fetched on a schedule and on demand. A provider whose call fails keeps its last offers
/// (marked stale by its state) unless the failure is Unauthorized, which empties them: nothing can be launched there.
/// </summary>
internal sealed class OfferCatalog(TimeProvider time, IOptions<ServerOptions> options, ILogger<OfferCatalog> logger)
{
    private readonly Dictionary<string, CatalogState> states = new(StringComparer.Ordinal);
    private readonly Lock gate = new();
    private IReadOnlyList<Offer> all = [];

    /// <summary>Every provider's current offers, one list (rebuilt only when a catalog changes).</summary>
    public IReadOnlyList<Offer> Offers => Volatile.Read(ref all);

    /// <summary>Fetches the catalogs that are due (all of them with <paramref name="force"/>), in parallel.</summary>
    public async Task RefreshAsync(IReadOnlyList<ProviderEntry> providers, bool force, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var interval = options.Value.Fleet.OfferRefreshInterval;
        var due = providers.Where(p =>
        {
            lock (gate)
            {
                return force || !states.TryGetValue(p.Name, out var s) || s.Generation != p.Generation || s.FetchedAt is not { } at || now - at >= interval;
            }
        }).ToList();
        await Task.WhenAll(due.Select(p => RefreshOneAsync(p, ct))).ConfigureAwait(false);
        lock (gate)
        {
            var names = providers.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var gone in states.Keys.Where(k => !names.Contains(k)).ToList())
            {
                states.Remove(gone);
            }
            Rebuild();
        }
    }

    /// <summary>Makes a provider's catalog due for the next refresh (after a launch or termination changed its availability).</summary>
    public void Expire(string provider)
    {
        lock (gate)
        {
            if (states.TryGetValue(provider, out var s))
            {
                states[provider] = s with { FetchedAt = null };
            }
        }
    }

    /// <summary>Drops a provider's offers after it answered Unauthorized during a launch.</summary>
    public void MarkUnauthorized(string provider, string message)
    {
        lock (gate)
        {
            if (states.TryGetValue(provider, out var s))
            {
                states[provider] = s with { State = "Unauthorized", Message = message, Offers = [] };
                Rebuild();
            }
        }
    }

    public ProviderCatalogView View(ProviderEntry entry)
    {
        lock (gate)
        {
            if (entry.Provider is null)
            {
                return new ProviderCatalogView(entry.Name, entry.Type, "Error", entry.Error, 0, null);
            }
            return states.TryGetValue(entry.Name, out var s)
                ? new ProviderCatalogView(entry.Name, entry.Type, s.State, s.Message, s.Offers.Count, s.FetchedAt ?? s.RefreshedAt)
                : new ProviderCatalogView(entry.Name, entry.Type, "Unknown", "offers not fetched yet", 0, null);
        }
    }

    private async Task RefreshOneAsync(ProviderEntry entry, CancellationToken ct)
    {
        if (entry.Provider is not { } provider)
        {
            lock (gate)
            {
                states[entry.Name] = new CatalogState(entry.Generation, "Error", entry.Error, [], time.GetUtcNow());
            }
            return;
        }
        CatalogState next;
        try
        {
            var offers = await provider.GetOffersAsync(ct).ConfigureAwait(false);
            next = new CatalogState(entry.Generation, "Ready", null, offers, time.GetUtcNow());
        }
        catch (ProviderException e)
        {
            logger.LogWarning("Provider {Provider}: offers could not be fetched ({Reason}): {Message}", entry.Name, e.Reason, e.Message);
            lock (gate)
            {
                var kept = e.Reason == ProviderErrorReason.Unauthorized || !states.TryGetValue(entry.Name, out var old) ? [] : old.Offers;
                next = new CatalogState(entry.Generation, e.Reason == ProviderErrorReason.Unauthorized ? "Unauthorized" : "Error",
                    $"{e.Reason}: {e.Message}", kept, time.GetUtcNow());
            }
        }
        lock (gate)
        {
            states[entry.Name] = next;
        }
    }

    private void Rebuild() => Volatile.Write(ref all, states.Values.SelectMany(s => s.Offers).ToArray());

    /// <param name="FetchedAt">When the catalog was fetched; null once it is due again (see <see cref="Expire"/>).</param>
    private sealed record CatalogState(long Generation, string State, string? Message, IReadOnlyList<Offer> Offers, DateTimeOffset? FetchedAt)
    {
        /// <summary>When it was last fetched, for people (kept while the catalog is due again).</summary>
        public DateTimeOffset? RefreshedAt { get; init; } = FetchedAt;
    }
}
