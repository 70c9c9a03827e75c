namespace Atoll.Core.Resources;

/// <summary>What every node of a pool must have. <see cref="GpusPerNode"/> 0 makes a CPU worker pool.</summary>
/// <param name="GpuModels">Accepted GPU models (canonical names such as <c>H100</c>); empty = any.</param>
public sealed record PoolRequirements(
    IReadOnlyList<string>? GpuModels = null,
    int GpusPerNode = 1,
    int MinGpuMemoryGiB = 0,
    int MinVCpus = 0,
    int MinMemoryGiB = 0);
