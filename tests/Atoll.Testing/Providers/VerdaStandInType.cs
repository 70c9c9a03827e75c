namespace Atoll.Testing.Providers;

/// <summary>An instance type in a <see cref="VerdaStandIn"/>'s catalog, as <c>GET /instance-types</c> describes it.</summary>
/// <param name="GpuDescription">e.g. <c>1x H100 SXM5 80GB</c>.</param>
/// <param name="GpuMemoryGiB">The node's total GPU memory (<c>gpu_memory.size_in_gigabytes</c>).</param>
public sealed record VerdaStandInType(
    string Name,
    decimal PricePerHour,
    decimal SpotPrice,
    int Gpus,
    string GpuDescription,
    int GpuMemoryGiB,
    int VCpus,
    int MemoryGiB);
