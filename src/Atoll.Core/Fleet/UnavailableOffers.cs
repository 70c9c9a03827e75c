namespace Atoll.Core.Fleet;

/// <summary>
/// Offers that just failed, skipped by the selector for a while (Karpenter's unavailable-offerings cache, 3 minutes
/// by default) so that failover moves on instead of retrying what the provider just refused. A provider-wide mark
/// (quota, credentials) blocks all its offers at once, so that failover does not walk every instance type of an
/// account that is out of quota. Thread-safe: reads take no lock (copy-on-write; marks are rare, reads are per offer).
/// </summary>
public sealed class UnavailableOffers
{
    /// <summary>How long a mark lasts when the constructor is not told otherwise.</summary>
    public static readonly TimeSpan DefaultTtl = TimeSpan.FromMinutes(3);

    private const string Any = "*";
    private readonly TimeProvider _time;
    private readonly Lock _writeLock = new();
    private volatile State _state = State.Empty;

    public UnavailableOffers(TimeProvider time, TimeSpan? ttl = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        Ttl = ttl ?? DefaultTtl;
        if (Ttl <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ttl), ttl, "the ttl must be positive");
        }
    }

    /// <summary>How long a mark lasts.</summary>
    public TimeSpan Ttl { get; }

    /// <summary>Now, by the clock this cache uses.</summary>
    public DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>Marks one offer (<c>provider:instanceType:region:capacity</c>, see <see cref="OfferKey"/>) unavailable for the ttl.</summary>
    public void Mark(string offerKey, ProviderErrorReason reason, string message)
    {
        ArgumentNullException.ThrowIfNull(offerKey);
        if (!OfferKey.TryParse(offerKey, out var key))
        {
            throw new ArgumentException($"offer key '{offerKey}' is not provider:instanceType:region:capacity", nameof(offerKey));
        }
        Write(key, offerKey, reason, message);
    }

    /// <summary>Marks one offer unavailable for the ttl.</summary>
    public void Mark(Offer offer, ProviderErrorReason reason, string message)
    {
        ArgumentNullException.ThrowIfNull(offer);
        Write((offer.Provider, offer.InstanceType, offer.Region, offer.CapacityType), offer.Key, reason, message);
    }

    /// <summary>
    /// Marks every offer of <paramref name="provider"/> (of one capacity type, or all when it is null) unavailable
    /// for the ttl: for quota, funds and credential errors, which no other instance type of that account escapes.
    /// </summary>
    public void MarkProvider(string provider, string? capacityType, ProviderErrorReason reason, string message)
    {
        ArgumentException.ThrowIfNullOrEmpty(provider);
        var capacity = capacityType ?? Any;
        Write((provider, Any, Any, capacity), OfferKey.Of(provider, Any, Any, capacity), reason, message);
    }

    /// <summary>True (and the entry) when the offer or its provider is marked and the mark has not expired.</summary>
    public bool IsUnavailable(Offer offer, out UnavailableEntry? why)
    {
        ArgumentNullException.ThrowIfNull(offer);
        why = Find(offer, Now);
        return why is not null;
    }

    /// <summary>Forgets every mark of a provider (e.g. after its credentials were fixed).</summary>
    public void Forget(string provider)
    {
        lock (_writeLock)
        {
            var entries = _state.Entries.Where(e => e.Key.Item1 != provider).ToDictionary();
            _state = new State(entries);
        }
    }

    /// <summary>The marks in force now, oldest first (for status and <c>atoll</c> output).</summary>
    public IReadOnlyList<UnavailableEntry> Entries()
    {
        var now = Now;
        return _state.Entries.Values.Where(e => e.ExpiresAt > now).OrderBy(e => e.MarkedAt).ThenBy(e => e.Key, StringComparer.Ordinal).ToArray();
    }

    /// <summary>The mark that blocks <paramref name="offer"/> at <paramref name="now"/>, or null; the selector's hot path.</summary>
    internal UnavailableEntry? Find(Offer offer, DateTimeOffset now)
    {
        // Most offers of a large catalog have no mark: single string-set probes rule them out before any tuple lookup.
        var state = _state;
        if (state.Entries.Count == 0 || !state.Providers.Contains(offer.Provider))
        {
            return null;
        }
        var entry = state.InstanceTypes.Contains(offer.InstanceType)
            ? Live(state, (offer.Provider, offer.InstanceType, offer.Region, offer.CapacityType), now)
            : null;
        return entry ?? (state.WideProviders.Contains(offer.Provider)
            ? Live(state, (offer.Provider, Any, Any, offer.CapacityType), now) ?? Live(state, (offer.Provider, Any, Any, Any), now)
            : null);
    }

    private static UnavailableEntry? Live(State state, (string, string, string, string) key, DateTimeOffset now) =>
        state.Entries.TryGetValue(key, out var entry) && entry.ExpiresAt > now ? entry : null;

    private void Write((string, string, string, string) key, string text, ProviderErrorReason reason, string message)
    {
        var now = Now;
        var entry = new UnavailableEntry(text, reason, message ?? "", now, now + Ttl);
        lock (_writeLock)
        {
            // Copy, dropping what expired, so that the cache stays as small as what failed in the last ttl.
            var entries = _state.Entries.Where(e => e.Value.ExpiresAt > now).ToDictionary();
            entries[key] = entry;
            _state = new State(entries);
        }
    }

    private sealed class State(Dictionary<(string, string, string, string), UnavailableEntry> entries)
    {
        public static readonly State Empty = new([]);

        public Dictionary<(string, string, string, string), UnavailableEntry> Entries { get; } = entries;

        public HashSet<string> Providers { get; } = entries.Keys.Select(k => k.Item1).ToHashSet(StringComparer.Ordinal);

        /// <summary>Instance types with an offer-level mark.</summary>
        public HashSet<string> InstanceTypes { get; } = entries.Keys.Where(k => k.Item2 != Any).Select(k => k.Item2).ToHashSet(StringComparer.Ordinal);

        /// <summary>Providers with a provider-wide mark.</summary>
        public HashSet<string> WideProviders { get; } = entries.Keys.Where(k => k.Item2 == Any).Select(k => k.Item1).ToHashSet(StringComparer.Ordinal);
    }
}
