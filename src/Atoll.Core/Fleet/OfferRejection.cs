namespace Atoll.Core.Fleet;

/// <summary>An offer that meets a pool's requirements and was passed over, with why, for people and claim attempts.</summary>
public sealed record OfferRejection(Offer Offer, OfferRejectionReason Reason, string Message);
