using System.Text.RegularExpressions;
using Atoll.Core.Fleet;

namespace Atoll.Providers;

/// <summary>
/// What adapters need to turn provider GPU strings (<c>gpu_1x_h100_pcie</c>, <c>NVIDIA H100 80GB</c>,
/// <c>1H100.80S.30V</c>, <c>H100 SXM5</c>) into offer fields. Model names come from <see cref="GpuModels"/>, the one
/// catalog that pools are validated against, so that offers and pools always spell a model alike.
/// </summary>
public static partial class GpuNames
{
    /// <summary>The canonical model named in <paramref name="text"/>, or null when none is recognised.</summary>
    public static string? Canonical(string? text) => GpuModels.Normalize(text);

    /// <summary>The usual memory of one GPU of <paramref name="model"/> in GiB (the most common variant), or 0 when unknown.</summary>
    public static int MemoryGiB(string? model) => GpuModels.MemoryGiB(model);

    /// <summary>A memory size written in <paramref name="text"/> ("80 GB", "(24GB PCIe)", "141GB"), or null.</summary>
    public static int? MemoryInText(string? text)
    {
        if (text is null)
        {
            return null;
        }
        var match = MemorySize().Match(text);
        return match.Success && int.TryParse(match.Groups[1].Value, out var gb) ? gb : null;
    }

    [GeneratedRegex(@"(\d{1,4})\s*GB", RegexOptions.IgnoreCase)]
    private static partial Regex MemorySize();
}
