namespace Atoll.Core.Fleet;

/// <summary>One offer a claim tried, and why it did not (or did) work: what users of other tools most miss.</summary>
/// <param name="Outcome">A <see cref="ProviderErrorReason"/> name, <c>Launched</c>, or a selection reason such as <c>RecentlyUnavailable</c>.</param>
public sealed record OfferAttempt(string OfferKey, decimal PricePerHour, string Outcome, string Message, DateTimeOffset At);
