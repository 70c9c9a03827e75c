using System.Globalization;
using Atoll.Core.Resources;

namespace Atoll.Providers.TensorDock;

/// <summary>
/// How Atoll sizes a TensorDock VM, which is built from parts (GPUs, vCPUs, RAM, disk) rather than picked from a
/// list. Settings (all optional): <c>vcpusPerGpu</c> (default 8), <c>ramGbPerGpu</c> (default 32), <c>storageGb</c>
/// (default 200, at least the API's minimum of 100), each capped by what the location can deploy.
/// </summary>
internal sealed record TensorDockShape(int VcpusPerGpu, int RamGbPerGpu, int StorageGb)
{
    public const int MinStorageGb = 100;

    public static TensorDockShape From(string provider, ProviderSpec spec)
    {
        var settings = spec.Settings ?? new Dictionary<string, string>();
        return new TensorDockShape(
            Setting(provider, settings, "vcpusPerGpu", 8, 1),
            Setting(provider, settings, "ramGbPerGpu", 32, 1),
            Setting(provider, settings, "storageGb", 200, MinStorageGb));
    }

    /// <summary>The instance type of <paramref name="count"/> GPUs of <paramref name="gpu"/>: <c>2xh100-sxm5-80gb</c>.</summary>
    public static string InstanceType(string gpu, int count) => string.Create(CultureInfo.InvariantCulture, $"{count}x{gpu}");

    /// <summary>The GPU (TensorDock's <c>v0Name</c>) and count of an instance type, or null when it is not one of ours.</summary>
    public static (string Gpu, int Count)? Parse(string instanceType)
    {
        var x = instanceType.IndexOf('x', StringComparison.Ordinal);
        return x > 0 && x < instanceType.Length - 1 && int.TryParse(instanceType.AsSpan(0, x), NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count > 0
            ? (instanceType[(x + 1)..], count)
            : null;
    }

    private static int Setting(string provider, IReadOnlyDictionary<string, string> settings, string key, int fallback, int min)
    {
        if (!settings.TryGetValue(key, out var text))
        {
            return fallback;
        }
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min
            ? value
            : throw new ProviderException(Core.Fleet.ProviderErrorReason.InvalidRequest,
                $"provider {provider}: settings.{key} is '{text}': use a whole number of at least {min}");
    }
}
