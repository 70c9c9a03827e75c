using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Atoll.Core.Contracts;

namespace Atoll.Core.Health;

/// <summary>
/// Reads the agent's <c>--gpus</c> option (<c>2xH100-80GB</c>, <c>4xL40S</c>, <c>2xH100-80GB,1xA10-24GB</c>,
/// <c>0</c>/<c>none</c>) into a simulated <see cref="GpuReport"/>, so the control plane can be run without GPUs.
/// </summary>
public static class SimulatedGpus
{
    /// <summary>The accepted form, quoted in every error.</summary>
    public const string AcceptedForm = "COUNTxMODEL[-MEMGB][,...], e.g. 2xH100-80GB";

    private const int MaxCount = 1024;

    /// <summary>Parses <paramref name="spec"/>; throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static GpuReport Parse(string spec)
    {
        var trimmed = (spec ?? "").Trim();
        if (trimmed.Length == 0)
        {
            throw Invalid(spec, "it is empty (use 'none' for a node without GPUs)");
        }
        if (trimmed == "0" || trimmed.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            // Declares "this node has no GPUs"; that is a fact about the node, not a simulation.
            return GpuReport.None;
        }

        var gpus = new List<GpuDevice>();
        foreach (var group in trimmed.Split(','))
        {
            var (count, name, memoryMiB) = ParseGroup(spec!, group.Trim());
            if (gpus.Count + count > MaxCount)
            {
                throw Invalid(spec, $"more than {MaxCount} GPUs in total");
            }
            for (var i = 0; i < count; i++)
            {
                var index = gpus.Count;
                gpus.Add(new GpuDevice(index, FakeUuid(index, name), name, memoryMiB, "simulated", 0, 0, 0));
            }
        }
        return new GpuReport(gpus, true, GpuHealthReasons.GpusHealthy, GpuSummary.Describe(gpus), Simulated: true);
    }

    private static (int Count, string Name, long? MemoryMiB) ParseGroup(string spec, string group)
    {
        if (group.Length == 0)
        {
            throw Invalid(spec, "a group between commas is empty");
        }
        if (group == "0" || group.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            throw Invalid(spec, $"'{group}' cannot be combined with other groups");
        }
        if (group[0] == '-' || group[0] == '+')
        {
            throw Invalid(spec, $"the count in '{group}' must be a positive whole number");
        }

        var digits = 0;
        while (digits < group.Length && char.IsAsciiDigit(group[digits]))
        {
            digits++;
        }
        var count = 1;
        var model = group;
        if (digits > 0)
        {
            if (digits == group.Length || (group[digits] != 'x' && group[digits] != 'X'))
            {
                throw Invalid(spec, $"expected 'x' after the count in '{group}'");
            }
            if (!int.TryParse(group.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out count) || count > MaxCount)
            {
                throw Invalid(spec, $"the count in '{group}' is more than {MaxCount}");
            }
            if (count == 0)
            {
                throw Invalid(spec, $"the count in '{group}' must be at least 1 (use 'none' for a node without GPUs)");
            }
            model = group[(digits + 1)..].Trim();
        }
        else if ((group[0] == 'x' || group[0] == 'X') && group.Length > 1 && char.IsAsciiDigit(group[1]))
        {
            throw Invalid(spec, $"the count in '{group}' must come before the 'x'");
        }

        if (model.Length == 0)
        {
            throw Invalid(spec, $"the model is missing in '{group}'");
        }
        if (!char.IsAsciiLetter(model[0]) || model.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.' or ' ')))
        {
            throw Invalid(spec, $"the model '{model}' must start with a letter and contain only letters, digits, '-', '_', '.' or spaces");
        }

        long? memoryMiB = null;
        var dash = model.LastIndexOf('-');
        if (dash >= 0 && model.EndsWith("GB", StringComparison.OrdinalIgnoreCase))
        {
            var gb = model[(dash + 1)..^2];
            if (!int.TryParse(gb, NumberStyles.None, CultureInfo.InvariantCulture, out var memoryGb) || memoryGb is < 1 or > 100_000)
            {
                throw Invalid(spec, $"the memory '{model[(dash + 1)..]}' in '{group}' must be a whole number of GB, e.g. 80GB");
            }
            memoryMiB = memoryGb * 1024L;
            model = $"{model[..dash]} {memoryGb}GB";
        }
        if (model.StartsWith("NVIDIA", StringComparison.OrdinalIgnoreCase) && model.Length > 7 && model[6] is ' ' or '-' or '_')
        {
            model = model[7..].TrimStart();
        }
        return (count, $"NVIDIA {model}", memoryMiB);
    }

    // Stable across restarts so a node re-registering with the same --gpus reports the same devices.
    private static string FakeUuid(int index, string name)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{index}/{name}"));
        return $"GPU-sim-{index}-{Convert.ToHexStringLower(hash, 0, 4)}";
    }

    private static FormatException Invalid(string? spec, string problem) =>
        new($"invalid --gpus '{spec}': {problem}; expected {AcceptedForm}");
}
