using System.Globalization;
using System.Text.RegularExpressions;
using Atoll.Core.Contracts;

namespace Atoll.Core.Health;

/// <summary>
/// Turns the output of <c>nvidia-smi --query-gpu=... --format=csv,noheader,nounits</c> (see <see cref="Arguments"/>)
/// into a <see cref="GpuReport"/>. Pure; never throws on bad input: anything it cannot read becomes an unhealthy
/// report whose message quotes what nvidia-smi said.
/// </summary>
public static partial class NvidiaSmiParser
{
    /// <summary>The fields queried, in the order <see cref="Parse"/> expects them.</summary>
    public const string QueryFields =
        "index,uuid,name,memory.total,driver_version,temperature.gpu,utilization.gpu,memory.used";

    /// <summary>The exact nvidia-smi arguments whose output <see cref="Parse"/> reads.</summary>
    public static IReadOnlyList<string> Arguments { get; } =
        [$"--query-gpu={QueryFields}", "--format=csv,noheader,nounits"];

    private static readonly string[] FieldNames = QueryFields.Split(',');
    private const int MaxQuoteLength = 200;

    /// <summary>Reads one run of nvidia-smi: its standard output, standard error and exit code.</summary>
    public static GpuReport Parse(string stdout, string stderr, int exitCode)
    {
        var outLines = Lines(stdout);
        var allLines = outLines.Concat(Lines(stderr)).ToList();

        // Whole-node failures first: when NVML cannot start, nothing else nvidia-smi printed means anything.
        if (Find(allLines, "Driver/library version mismatch") is { } mismatch)
        {
            return Failed(GpuHealthReasons.DriverLibraryMismatch,
                $"nvidia-smi: {Quote(mismatch)} (NVIDIA userspace libraries were upgraded while the old kernel module " +
                "is still loaded, often by unattended upgrades; reboot the node, and hold the nvidia-*/libnvidia-* packages)");
        }
        if (Find(allLines, "couldn't communicate with the NVIDIA driver") is { } unreachable)
        {
            return Failed(GpuHealthReasons.DriverUnreachable,
                $"nvidia-smi: {Quote(unreachable)} (the NVIDIA kernel module is not loaded or not installed)");
        }
        if (Find(allLines, "No devices were found") is { } none)
        {
            return Failed(GpuHealthReasons.NoDevicesFound,
                $"nvidia-smi: {Quote(none)} (the driver is loaded but sees no GPU)");
        }

        var lost = allLines.Where(IsLostGpuLine).ToList();
        var gpus = new List<GpuDevice>();
        var problems = new List<(string Reason, string Text)>();
        string? unparseable = null;
        foreach (var line in outLines.Where(l => !IsLostGpuLine(l)))
        {
            if (TryParseLine(line, out var gpu, out var problem))
            {
                gpus.Add(gpu);
                if (problem is not null)
                {
                    problems.Add(problem.Value);
                }
            }
            else
            {
                unparseable ??= line;
            }
        }

        if (lost.Count > 0)
        {
            var busIds = lost.Select(l => BusIdPattern().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();
            var which = busIds.Count > 0 ? $"GPU {string.Join(", ", busIds)}" : $"{lost.Count} GPU(s)";
            return new GpuReport(gpus, false, GpuHealthReasons.GpuLost,
                $"{which} lost: {Quote(lost[0])} ({gpus.Count} other GPU(s) answered; a lost GPU needs a reboot or replacement)");
        }
        if (unparseable is not null)
        {
            return new GpuReport(gpus, false, GpuHealthReasons.NvidiaSmiFailed,
                $"nvidia-smi printed a line that is not a GPU record (exit code {exitCode}): {Quote(unparseable)}");
        }
        if (exitCode != 0)
        {
            var first = Lines(stderr).Concat(outLines).FirstOrDefault();
            return new GpuReport(gpus, false, GpuHealthReasons.NvidiaSmiFailed,
                first is null ? $"nvidia-smi exited with code {exitCode} without output" : $"nvidia-smi exited with code {exitCode}: {Quote(first)}");
        }
        if (gpus.Count == 0)
        {
            return Failed(GpuHealthReasons.NvidiaSmiFailed, "nvidia-smi exited with code 0 but listed no GPUs");
        }
        if (problems.Count > 0)
        {
            var reason = problems.Any(p => p.Reason == GpuHealthReasons.GpuRequiresReset)
                ? GpuHealthReasons.GpuRequiresReset
                : GpuHealthReasons.GpuUnknownError;
            return new GpuReport(gpus, false, reason, string.Join("; ", problems.Select(p => p.Text)));
        }

        var drivers = GpuSummary.DriverVersions(gpus);
        if (drivers.Count > 1)
        {
            var byDriver = drivers.Select(d =>
                $"{d} on GPU {string.Join(",", gpus.Where(g => g.DriverVersion == d).Select(g => g.Index))}");
            return new GpuReport(gpus, false, GpuHealthReasons.MixedDriverVersions,
                $"GPUs report different driver versions ({string.Join("; ", byDriver)}): a driver upgrade was half applied; reboot the node");
        }
        return new GpuReport(gpus, true, GpuHealthReasons.GpusHealthy, GpuSummary.Describe(gpus));
    }

    private static GpuReport Failed(string reason, string message) => new([], false, reason, message);

    private static bool TryParseLine(string line, out GpuDevice gpu, out (string Reason, string Text)? problem)
    {
        gpu = null!;
        problem = null;
        var parts = line.Split(',');
        if (parts.Length < FieldNames.Length)
        {
            return false;
        }
        // Names have no commas today; if one ever does, the fields around it still line up from both ends.
        var fields = new string[FieldNames.Length];
        fields[0] = parts[0].Trim();
        fields[1] = parts[1].Trim();
        fields[2] = string.Join(",", parts[2..^5]).Trim();
        for (var i = 3; i < FieldNames.Length; i++)
        {
            fields[i] = parts[parts.Length - FieldNames.Length + i].Trim();
        }

        if (!int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            return false;
        }
        var states = fields.Select(Classify).ToArray();
        if (!TryNumber(fields[3], states[3], long.MaxValue, out var memoryTotal)
            || !TryNumber(fields[5], states[5], int.MaxValue, out var temperature)
            || !TryNumber(fields[6], states[6], int.MaxValue, out var utilization)
            || !TryNumber(fields[7], states[7], long.MaxValue, out var memoryUsed))
        {
            return false;
        }

        var name = states[2] == FieldState.Value ? fields[2] : "unknown";
        gpu = new GpuDevice(
            index,
            states[1] == FieldState.Value ? fields[1] : null,
            name,
            memoryTotal,
            states[4] == FieldState.Value ? fields[4] : null,
            (int?)temperature,
            (int?)utilization,
            memoryUsed);

        var resetFields = FieldsIn(states, FieldState.RequiresReset);
        var errorFields = FieldsIn(states, FieldState.UnknownError);
        if (resetFields.Count > 0)
        {
            problem = (GpuHealthReasons.GpuRequiresReset,
                $"GPU {index} ({name}) requires reset: [GPU requires reset] in {string.Join(", ", resetFields)}");
        }
        else if (errorFields.Count > 0)
        {
            problem = (GpuHealthReasons.GpuUnknownError,
                $"GPU {index} ({name}) reports [Unknown Error] in {string.Join(", ", errorFields)}");
        }
        return true;
    }

    private static List<string> FieldsIn(FieldState[] states, FieldState state) =>
        FieldNames.Where((_, i) => states[i] == state).ToList();

    private static bool TryNumber(string field, FieldState state, long max, out long? value)
    {
        value = null;
        if (state != FieldState.Value)
        {
            return true;
        }
        if (long.TryParse(field, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed)
            && parsed >= int.MinValue && parsed <= max)
        {
            value = parsed;
            return true;
        }
        return false;
    }

    private enum FieldState { Value, Missing, UnknownError, RequiresReset }

    private static FieldState Classify(string field)
    {
        if (field.Contains("requires reset", StringComparison.OrdinalIgnoreCase))
        {
            return FieldState.RequiresReset;
        }
        if (field.Contains("Unknown Error", StringComparison.OrdinalIgnoreCase))
        {
            return FieldState.UnknownError;
        }
        // "[N/A]", "N/A", "[Not Supported]", and other bracketed notes such as "[Insufficient Permissions]": no value.
        return field.Length == 0
            || field.StartsWith('[')
            || field.Equals("N/A", StringComparison.OrdinalIgnoreCase)
            || field.Equals("Not Supported", StringComparison.OrdinalIgnoreCase)
            ? FieldState.Missing
            : FieldState.Value;
    }

    private static bool IsLostGpuLine(string line) =>
        line.Contains("Unable to determine the device handle", StringComparison.OrdinalIgnoreCase)
        || line.Contains("GPU is lost", StringComparison.OrdinalIgnoreCase);

    private static string? Find(List<string> lines, string text) =>
        lines.FirstOrDefault(l => l.Contains(text, StringComparison.OrdinalIgnoreCase));

    private static List<string> Lines(string? text) =>
        (text ?? "").Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.Length > 0)
            .ToList();

    private static string Quote(string line)
    {
        var trimmed = line.Trim();
        return trimmed.Length <= MaxQuoteLength ? trimmed : string.Concat(trimmed.AsSpan(0, MaxQuoteLength), "...");
    }

    [GeneratedRegex(@"GPU\s*([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-9A-Fa-f])")]
    private static partial Regex BusIdPattern();
}
