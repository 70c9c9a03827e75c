namespace Atoll.Testing.Providers;

/// <summary>A GPU model a <see cref="TensorDockStandIn"/> location offers, with the location's per-unit prices.</summary>
/// <param name="V0Name">TensorDock's GPU id, e.g. <c>h100-sxm5-80gb</c>: the key of <c>resources.gpus</c> in a create.</param>
/// <param name="PricePerHour">USD per GPU-hour.</param>
/// <param name="MaxPerVm">The most GPUs one VM may have here (<c>max_count</c> is this or fewer when fewer are free).</param>
public sealed record TensorDockStandInGpu(
    string V0Name,
    string DisplayName,
    decimal PricePerHour,
    int MaxPerVm = 8,
    int MaxVcpus = 128,
    int MaxRamGb = 512,
    int MaxStorageGb = 4000,
    decimal PerVcpuHour = 0.003m,
    decimal PerGbRamHour = 0.002m,
    decimal PerGbStorageHour = 0.00005m);
