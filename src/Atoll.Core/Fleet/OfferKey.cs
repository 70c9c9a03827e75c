namespace Atoll.Core.Fleet;

/// <summary>The identity of an offer: <c>provider:instanceType:region:capacity</c>.</summary>
public static class OfferKey
{
    public static string Of(string provider, string instanceType, string region, string capacityType) =>
        string.Concat(provider, ":", instanceType, ":", region, ":", capacityType);

    /// <summary>
    /// Splits a key into its parts; the instance type may itself contain ':' (provider, region and capacity type do not).
    /// </summary>
    public static bool TryParse(string? key, out (string Provider, string InstanceType, string Region, string CapacityType) parts)
    {
        parts = default;
        if (key is null)
        {
            return false;
        }
        var first = key.IndexOf(':', StringComparison.Ordinal);
        var last = key.LastIndexOf(':');
        var middle = first < last ? key.LastIndexOf(':', last - 1) : -1;
        if (first <= 0 || middle <= first + 1 || last <= middle + 1 || last == key.Length - 1)
        {
            return false;
        }
        parts = (key[..first], key[(first + 1)..middle], key[(middle + 1)..last], key[(last + 1)..]);
        return true;
    }
}
