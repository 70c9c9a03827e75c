using System.Globalization;
using System.Text;

namespace Atoll.Core.Fleet;

/// <summary>
/// Counts what <see cref="OfferSelector"/> passed over and why, keeps the best-ranked few of each reason, and writes
/// the summary a person reads in the pool's status ("no offer fits pool h100: 12 offers match the requirements; ...").
/// Everything kept is ordered by the selection order, so that the result does not depend on the catalog's order.
/// </summary>
internal sealed class SelectionTally(PoolPolicy pool, PoolUsage usage, DateTimeOffset now)
{
    private static readonly int ReasonCount = Enum.GetValues<OfferRejectionReason>().Length;

    private readonly Best _considered = new(OfferSelector.MaxConsidered);
    private readonly Best[] _examples = new Best[ReasonCount];
    private readonly int[] _rejected = new int[ReasonCount];
    private decimal? _cheapestAboveMax;

    public int[] Misses { get; } = new int[Enum.GetValues<OfferSelector.Requirement>().Length];

    public int Matching { get; set; }

    public void Reject(Offer offer, int rank, OfferRejectionReason reason, UnavailableEntry? entry)
    {
        var r = (int)reason;
        _rejected[r]++;
        _considered.Add(offer, rank, reason, entry);
        (_examples[r] ??= new Best(OfferSelector.ExamplesPerReason)).Add(offer, rank, reason, entry);
        if (reason == OfferRejectionReason.AboveMaxPrice && (_cheapestAboveMax is null || offer.PricePerHour < _cheapestAboveMax))
        {
            _cheapestAboveMax = offer.PricePerHour;
        }
    }

    public OfferSelection Result(Offer? chosen, int total)
    {
        var considered = new OfferRejection[_considered.Count];
        for (var i = 0; i < considered.Length; i++)
        {
            var (offer, _, reason, entry) = _considered[i];
            considered[i] = new OfferRejection(offer, reason, Message(offer, reason, entry));
        }
        return new OfferSelection(chosen, considered, Summary(chosen, total), Matching);
    }

    private string Summary(Offer? chosen, int total)
    {
        var text = new StringBuilder();
        if (chosen is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"chose {chosen.Key} at {Usd(chosen.PricePerHour)}/h; {Matching} of {total} offers match the requirements");
            if (_rejected.Sum() > 0)
            {
                text.Append("; passed over: ");
                AppendRejections(text);
            }
            return text.ToString();
        }
        text.Append(CultureInfo.InvariantCulture, $"no offer fits pool {pool.Name}: ");
        if (total == 0)
        {
            return text.Append("the pool's providers list no offers (catalogs not fetched yet, or no capacity anywhere)").ToString();
        }
        if (Matching == 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"none of {total} offers matches the requirements ({Wanted()}): ");
            AppendMisses(text);
            return text.ToString();
        }
        text.Append(CultureInfo.InvariantCulture, $"{Matching} {(Matching == 1 ? "offer matches" : "offers match")} the requirements; ");
        AppendRejections(text);
        return text.ToString();
    }

    private string Wanted()
    {
        var shape = pool.GpusPerNode == 0 ? "no GPU"
            : $"{pool.GpusPerNode}x{(pool.GpuModels.Count > 0 ? string.Join("|", pool.GpuModels) : "any GPU")}";
        var regions = pool.Regions.Count > 0 ? string.Join(", ", pool.Regions) : "any region";
        return $"{shape} from {string.Join(", ", pool.Providers)}; {string.Join(" or ", pool.CapacityTypes)}; {regions}";
    }

    private void AppendMisses(StringBuilder text)
    {
        string[] what = ["from other providers", "of other capacity types", "in other regions", "with other GPU models",
            $"with other than {pool.GpusPerNode} GPUs", $"with less than {pool.MinGpuMemoryGiB} GiB per GPU",
            $"with fewer than {pool.MinVCpus} vCPUs", $"with less than {pool.MinMemoryGiB} GiB RAM"];
        var first = true;
        for (var i = 0; i < Misses.Length; i++)
        {
            if (Misses[i] > 0)
            {
                text.Append(first ? "" : ", ").Append(CultureInfo.InvariantCulture, $"{Misses[i]} {what[i]}");
                first = false;
            }
        }
    }

    private void AppendRejections(StringBuilder text)
    {
        var first = true;
        for (var r = 0; r < ReasonCount; r++)
        {
            if (_rejected[r] == 0)
            {
                continue;
            }
            text.Append(first ? "" : ", ").Append(_rejected[r]).Append(' ');
            first = false;
            var reason = (OfferRejectionReason)r;
            text.Append(reason switch
            {
                OfferRejectionReason.NotAvailable => "without capacity in the provider's catalog",
                OfferRejectionReason.RecentlyUnavailable => "recently unavailable",
                OfferRejectionReason.AboveMaxPrice => $"above maxPricePerHour {Number(pool.MaxPricePerHour)} (cheapest {Usd(_cheapestAboveMax ?? 0m)}/h)",
                OfferRejectionReason.Excluded => "excluded (already tried)",
                OfferRejectionReason.PoolGpuLimit => $"would exceed limits.maxGpus {pool.MaxGpus} (the pool holds {usage.Gpus})",
                _ => $"would exceed limits.maxPricePerHour {Number(pool.MaxPoolPricePerHour)} (the pool spends {Usd(usage.PricePerHour)}/h)",
            });
            if (reason == OfferRejectionReason.RecentlyUnavailable)
            {
                var examples = _examples[r];
                text.Append(" (");
                for (var i = 0; i < examples.Count; i++)
                {
                    var (offer, _, _, entry) = examples[i];
                    text.Append(i == 0 ? "" : ", ").Append(offer.Key).Append(' ')
                        .Append(entry is null ? "" : $"{entry.Reason} {Durations.Format(now - entry.MarkedAt)} ago");
                }
                text.Append(_rejected[r] > examples.Count ? ", ...)" : ")");
            }
        }
    }

    private string Message(Offer offer, OfferRejectionReason reason, UnavailableEntry? entry) => reason switch
    {
        OfferRejectionReason.NotAvailable => "the provider's catalog lists no capacity for it now",
        OfferRejectionReason.RecentlyUnavailable when entry is not null =>
            $"{entry.Reason} {Durations.Format(now - entry.MarkedAt)} ago{(entry.IsProviderWide ? $" ({entry.Key})" : "")}: {entry.Message}; "
            + $"retried after {Durations.Format(entry.ExpiresAt - now)}",
        OfferRejectionReason.RecentlyUnavailable => "failed recently",
        OfferRejectionReason.AboveMaxPrice => $"{Usd(offer.PricePerHour)}/h is above maxPricePerHour {Number(pool.MaxPricePerHour)}",
        OfferRejectionReason.Excluded => "excluded: already tried",
        OfferRejectionReason.PoolGpuLimit => $"the pool would hold {usage.Gpus + offer.GpuCount} GPUs; limits.maxGpus is {pool.MaxGpus}",
        _ => $"the pool would spend {Usd(usage.PricePerHour + offer.PricePerHour)}/h; limits.maxPricePerHour is {Number(pool.MaxPoolPricePerHour)}",
    };

    private static string Usd(decimal value) => "$" + value.ToString("0.00##", CultureInfo.InvariantCulture);

    private static string Number(decimal? value) => value?.ToString("0.####", CultureInfo.InvariantCulture) ?? "none";

    /// <summary>The best few rejected offers by the selection order: a small sorted array, insertion only when better than the worst.</summary>
    private sealed class Best(int capacity)
    {
        private readonly (Offer Offer, int Rank, OfferRejectionReason Reason, UnavailableEntry? Entry)[] _items = new (Offer, int, OfferRejectionReason, UnavailableEntry?)[capacity];

        public int Count { get; private set; }

        public (Offer Offer, int Rank, OfferRejectionReason Reason, UnavailableEntry? Entry) this[int index] => _items[index];

        public void Add(Offer offer, int rank, OfferRejectionReason reason, UnavailableEntry? entry)
        {
            if (Count == _items.Length)
            {
                var worst = _items[Count - 1];
                if (OfferSelector.Compare(offer, rank, worst.Offer, worst.Rank) >= 0)
                {
                    return;
                }
                Count--;
            }
            var i = Count;
            while (i > 0 && OfferSelector.Compare(offer, rank, _items[i - 1].Offer, _items[i - 1].Rank) < 0)
            {
                _items[i] = _items[i - 1];
                i--;
            }
            _items[i] = (offer, rank, reason, entry);
            Count++;
        }
    }
}
