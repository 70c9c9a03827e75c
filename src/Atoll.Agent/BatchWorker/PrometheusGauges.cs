using System.Globalization;

namespace Atoll.Agent.BatchWorker;

/// <summary>Reads gauges from Prometheus text exposition.</summary>
internal static class PrometheusGauges
{
    /// <summary>Sum of a gauge over all its label sets; null when the text has no sample of it.</summary>
    public static double? Sum(string text, string name)
    {
        double? sum = null;
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (!line.StartsWith(name) || line.Length == name.Length || (line[name.Length] != '{' && line[name.Length] != ' '))
            {
                continue;
            }
            var value = line.TrimEnd()[(line.TrimEnd().LastIndexOf(' ') + 1)..];
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
            {
                sum = (sum ?? 0) + v;
            }
        }
        return sum;
    }
}
