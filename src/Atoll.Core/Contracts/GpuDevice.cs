namespace Atoll.Core.Contracts;

/// <summary>One GPU as reported by nvidia-smi (or declared as simulated). Null fields were "[N/A]" or absent.</summary>
public sealed record GpuDevice(
    int Index,
    string? Uuid,
    string Name,
    long? MemoryTotalMiB,
    string? DriverVersion,
    int? TemperatureC,
    int? UtilizationPercent,
    long? MemoryUsedMiB);
