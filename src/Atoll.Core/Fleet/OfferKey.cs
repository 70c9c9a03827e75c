namespace Atoll.Core.Fleet;

/// <summary>The identity of an offer: <c>provider:instanceType:region:capacity</c>.</summary>
public static class OfferKey
{
    public static string Of(string provider, string instanceType, string region, string capacityType) =>
        string.Concat(provider, ":", instanceType, ":", region, ":", capacityType);
}
