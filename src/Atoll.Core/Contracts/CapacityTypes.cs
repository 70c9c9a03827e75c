namespace Atoll.Core.Contracts;

/// <summary>How an instance is bought.</summary>
public static class CapacityTypes
{
    public const string Spot = "spot";
    public const string OnDemand = "on-demand";

    public static bool IsValid(string? value) => value is Spot or OnDemand;
}
