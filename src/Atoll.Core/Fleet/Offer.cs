namespace Atoll.Core.Fleet;

/// <summary>
/// One way to buy a node: an instance type in a region with one capacity type (spot or on-demand), as a
/// provider's catalog lists it. Prices are per node-hour in USD.
/// </summary>
/// <param name="GpuModel">Canonical name (<see cref="GpuModels"/>), null for a CPU offer or a GPU Atoll does not know.</param>
/// <param name="GpuCount">GPUs per node.</param>
/// <param name="GpuMemoryGiB">Memory of one GPU (not of all of them); 0 when the provider does not say.</param>
/// <param name="Available">The catalog lists capacity for it now.</param>
public sealed record Offer(
    string Provider,
    string ProviderType,
    string InstanceType,
    string Region,
    string CapacityType,
    string? GpuModel,
    int GpuCount,
    int GpuMemoryGiB,
    int VCpus,
    int MemoryGiB,
    decimal PricePerHour,
    decimal? OnDemandPricePerHour,
    bool Available)
{
    /// <summary>Key of the unavailable-offer cache: <c>provider:instanceType:region:capacity</c>.</summary>
    public string Key => OfferKey.Of(Provider, InstanceType, Region, CapacityType);

    /// <summary>Price per GPU-hour (per node-hour for CPU offers), for sorting across shapes.</summary>
    public decimal PricePerGpuHour => GpuCount > 0 ? PricePerHour / GpuCount : PricePerHour;
}
