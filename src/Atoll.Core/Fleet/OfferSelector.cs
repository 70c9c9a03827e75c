namespace Atoll.Core.Fleet;

/// <summary>
/// Chooses the offer to launch for one node of a pool, in one pass over the catalog with no per-offer allocation.
/// </summary>
/// <remarks>
/// An offer meets a pool's requirements when its provider is one of the pool's, its region is allowed (pool regions,
/// empty = any), its capacity type is one the pool takes, and its shape fits: GPU pools need a known GPU model of the
/// pool's list (any model when the list is empty) and exactly <c>gpusPerNode</c> GPUs — exactly, not at least, so
/// that a pool of 1×H100 never pays for an 8×H100 box it cannot use (and tensor-parallel sizes stay what the pool
/// says); CPU pools (<c>gpusPerNode: 0</c>) take only offers without GPUs. Per-GPU memory, vCPUs and RAM must reach
/// the minimums (an offer without a per-GPU memory figure is taken at its model's catalog memory).
/// Of those, the offer must be available, at most <c>maxPricePerHour</c>, not recently failed, not excluded, and
/// keep the pool within <c>limits</c>. The winner is the best by (capacity-type preference, price per node-hour,
/// provider, instance type, region): the cheapest of the most preferred capacity type that has any, whatever the
/// input order.
/// </remarks>
public static class OfferSelector
{
    /// <summary>How many passed-over offers <see cref="OfferSelection.Considered"/> lists at most.</summary>
    public const int MaxConsidered = 20;

    internal const int ExamplesPerReason = 3;

    /// <summary>Chooses the offer for the next node of <paramref name="pool"/>; see the type's remarks for the rules.</summary>
    /// <param name="usage">What the pool's active claims hold now, for <c>limits</c>.</param>
    /// <param name="unavailable">Offers and providers that failed recently.</param>
    /// <param name="excludedKeys">Offer keys not to choose (e.g. already tried for this claim).</param>
    public static OfferSelection Select(
        PoolPolicy pool, IReadOnlyList<Offer> offers, PoolUsage usage, UnavailableOffers unavailable,
        IReadOnlySet<string>? excludedKeys = null)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(offers);
        ArgumentNullException.ThrowIfNull(usage);
        ArgumentNullException.ThrowIfNull(unavailable);

        var now = unavailable.Now;
        var filter = new Filter(pool);
        var tally = new SelectionTally(pool, usage, now);
        var excluded = Excluded(excludedKeys);
        var (maxPrice, maxGpus, maxSpend) = (pool.MaxPricePerHour ?? decimal.MaxValue, pool.MaxGpus, pool.MaxPoolPricePerHour);
        Offer? best = null;
        var bestRank = 0;

        for (var i = 0; i < offers.Count; i++)
        {
            var offer = offers[i];
            var rank = filter.Rank(offer, out var miss);
            if (rank < 0)
            {
                tally.Misses[(int)miss]++;
                continue;
            }
            tally.Matching++;
            UnavailableEntry? entry = null;
            OfferRejectionReason? reason =
                offer.PricePerHour > maxPrice ? OfferRejectionReason.AboveMaxPrice
                : maxGpus is { } gpuLimit && usage.Gpus + offer.GpuCount > gpuLimit ? OfferRejectionReason.PoolGpuLimit
                : maxSpend is { } spendLimit && usage.PricePerHour + offer.PricePerHour > spendLimit ? OfferRejectionReason.PoolPriceLimit
                : !offer.Available ? OfferRejectionReason.NotAvailable
                : (entry = unavailable.Find(offer, now)) is not null ? OfferRejectionReason.RecentlyUnavailable
                : excluded is not null && excluded.Value.Types.Contains(offer.InstanceType)
                    && excluded.Value.Keys.Contains((offer.Provider, offer.InstanceType, offer.Region, offer.CapacityType)) ? OfferRejectionReason.Excluded
                : null;
            if (reason is { } r)
            {
                tally.Reject(offer, rank, r, entry);
                continue;
            }
            if (best is null || Compare(offer, rank, best, bestRank) < 0)
            {
                best = offer;
                bestRank = rank;
            }
        }
        return tally.Result(best, offers.Count);
    }

    // Keys split once per decision, so that checking an offer builds no key string; the instance types let one
    // string probe rule out most offers before the four-part lookup.
    private static (HashSet<string> Types, HashSet<(string, string, string, string)> Keys)? Excluded(IReadOnlySet<string>? keys)
    {
        if (keys is not { Count: > 0 })
        {
            return null;
        }
        var types = new HashSet<string>(StringComparer.Ordinal);
        var parts = new HashSet<(string, string, string, string)>(keys.Count);
        foreach (var key in keys)
        {
            if (OfferKey.TryParse(key, out var p))
            {
                parts.Add(p);
                types.Add(p.InstanceType);
            }
        }
        return (types, parts);
    }

    /// <summary>The selection order: capacity-type rank, price, provider, instance type, region, capacity type.</summary>
    internal static int Compare(Offer a, int rankA, Offer b, int rankB)
    {
        var c = rankA.CompareTo(rankB);
        if (c == 0) { c = a.PricePerHour.CompareTo(b.PricePerHour); }
        if (c == 0) { c = string.CompareOrdinal(a.Provider, b.Provider); }
        if (c == 0) { c = string.CompareOrdinal(a.InstanceType, b.InstanceType); }
        if (c == 0) { c = string.CompareOrdinal(a.Region, b.Region); }
        if (c == 0) { c = string.CompareOrdinal(a.CapacityType, b.CapacityType); }
        return c;
    }

    /// <summary>The first requirement an offer misses; the order is the order of the summary's counts.</summary>
    internal enum Requirement
    {
        Provider,
        CapacityType,
        Region,
        GpuModel,
        GpuCount,
        GpuMemory,
        VCpus,
        Memory,
    }

    /// <summary>The pool's requirements copied into arrays once per decision, so that the loop does no interface calls.</summary>
    private sealed class Filter(PoolPolicy pool)
    {
        private readonly string[] _providers = [.. pool.Providers];
        private readonly string[] _regions = [.. pool.Regions];
        private readonly string[] _capacityTypes = [.. pool.CapacityTypes];
        private readonly string[] _models = [.. pool.GpuModels];
        private readonly int _gpus = pool.GpusPerNode;
        private readonly int _minGpuMemory = pool.MinGpuMemoryGiB;
        private readonly int _minVCpus = pool.MinVCpus;
        private readonly int _minMemory = pool.MinMemoryGiB;

        /// <summary>The capacity-type rank when the offer meets every requirement, else -1 and the first one it misses.</summary>
        public int Rank(Offer offer, out Requirement miss)
        {
            miss = Requirement.Provider;
            if (IndexOf(_providers, offer.Provider, StringComparison.Ordinal) < 0)
            {
                return -1;
            }
            var rank = IndexOf(_capacityTypes, offer.CapacityType, StringComparison.Ordinal);
            if (rank < 0)
            {
                miss = Requirement.CapacityType;
            }
            else if (_regions.Length > 0 && IndexOf(_regions, offer.Region, StringComparison.Ordinal) < 0)
            {
                miss = Requirement.Region;
            }
            else if (_gpus > 0 && (offer.GpuModel is null || (_models.Length > 0 && IndexOf(_models, offer.GpuModel, StringComparison.OrdinalIgnoreCase) < 0)))
            {
                miss = Requirement.GpuModel;
            }
            else if (offer.GpuCount != _gpus)
            {
                miss = Requirement.GpuCount;
            }
            else if (_minGpuMemory > 0 && (offer.GpuMemoryGiB > 0 ? offer.GpuMemoryGiB : GpuModels.MemoryGiB(offer.GpuModel)) < _minGpuMemory)
            {
                miss = Requirement.GpuMemory;
            }
            else if (offer.VCpus < _minVCpus)
            {
                miss = Requirement.VCpus;
            }
            else if (offer.MemoryGiB < _minMemory)
            {
                miss = Requirement.Memory;
            }
            else
            {
                return rank;
            }
            return -1;
        }

        private static int IndexOf(string[] values, string? value, StringComparison comparison)
        {
            for (var i = 0; i < values.Length; i++)
            {
                if (string.Equals(values[i], value, comparison))
                {
                    return i;
                }
            }
            return -1;
        }
    }
}
