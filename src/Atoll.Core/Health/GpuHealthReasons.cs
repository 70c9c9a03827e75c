namespace Atoll.Core.Health;

/// <summary>Machine-readable <see cref="Contracts.GpuReport.Reason"/> values, so policy code switches on meaning.</summary>
public static class GpuHealthReasons
{
    public const string GpusHealthy = "GpusHealthy";
    public const string NoGpus = "NoGpus";

    /// <summary>Userspace NVIDIA libraries were upgraded while the old kernel module is loaded; fixed by a reboot.</summary>
    public const string DriverLibraryMismatch = "DriverLibraryMismatch";
    public const string DriverUnreachable = "DriverUnreachable";
    public const string NoDevicesFound = "NoDevicesFound";
    public const string GpuLost = "GpuLost";
    public const string GpuRequiresReset = "GpuRequiresReset";
    public const string GpuUnknownError = "GpuUnknownError";

    /// <summary>GPUs report different driver versions: a half-applied driver upgrade.</summary>
    public const string MixedDriverVersions = "MixedDriverVersions";
    public const string NvidiaSmiFailed = "NvidiaSmiFailed";
    public const string NvidiaSmiTimeout = "NvidiaSmiTimeout";
    public const string NvidiaSmiNotFound = "NvidiaSmiNotFound";
}
