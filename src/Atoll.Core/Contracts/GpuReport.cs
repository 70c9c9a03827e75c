namespace Atoll.Core.Contracts;

/// <summary>
/// What an agent knows about its GPUs at one moment: the inventory and whether the driver answered.
/// <see cref="Healthy"/> false carries a machine-readable <see cref="Reason"/> (e.g. <c>DriverLibraryMismatch</c>).
/// </summary>
public sealed record GpuReport(
    IReadOnlyList<GpuDevice> Gpus,
    bool Healthy,
    string? Reason = null,
    string? Message = null,
    bool Simulated = false)
{
    public static GpuReport None { get; } = new([], true, "NoGpus", "node has no GPUs");
}
