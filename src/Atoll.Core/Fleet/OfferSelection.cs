namespace Atoll.Core.Fleet;

/// <summary>The outcome of one offer selection.</summary>
/// <param name="Chosen">The offer to launch, or null when none fits.</param>
/// <param name="Considered">Offers that meet the requirements but were passed over, best-ranked first (capped at
/// <see cref="OfferSelector.MaxConsidered"/>): what a person reads to see why a cheaper offer was not taken.</param>
/// <param name="Summary">One line for pool status and logs; when nothing fits it says why, with counts per reason.</param>
/// <param name="Matching">How many offers met the pool's requirements (before availability, price and limits).</param>
public sealed record OfferSelection(Offer? Chosen, IReadOnlyList<OfferRejection> Considered, string Summary, int Matching = 0);
