using Atoll.Core.Contracts;

namespace Atoll.Core.Health;

/// <summary>The one-line inventory people read in node conditions: "8 GPU(s): 8x NVIDIA H100 80GB HBM3, driver 550.54.15".</summary>
internal static class GpuSummary
{
    public static string Describe(IReadOnlyList<GpuDevice> gpus)
    {
        var models = gpus
            .GroupBy(g => g.Name, StringComparer.Ordinal)
            .Select(g => $"{g.Count()}x {g.Key}");
        var drivers = DriverVersions(gpus);
        var driver = drivers.Count == 0 ? "driver unknown" : $"driver {string.Join("/", drivers)}";
        return $"{gpus.Count} GPU(s): {string.Join(", ", models)}, {driver}";
    }

    /// <summary>Distinct reported driver versions in order of first appearance; GPUs that did not say are left out.</summary>
    public static IReadOnlyList<string> DriverVersions(IReadOnlyList<GpuDevice> gpus) =>
        gpus.Select(g => g.DriverVersion)
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)
            .ToList();
}
