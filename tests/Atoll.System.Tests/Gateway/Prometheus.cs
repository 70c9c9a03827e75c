using System.Globalization;

namespace Atoll.System.Tests.Gateway;

/// <summary>Reads samples out of Prometheus text exposition, as a scraper would.</summary>
internal static class Prometheus
{
    /// <summary>Sum of <paramref name="name"/> over all its label sets (0 when absent, as an unincremented counter is).</summary>
    public static double Sum(string text, string name)
    {
        double sum = 0;
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith(name, StringComparison.Ordinal) || line.Length == name.Length || (line[name.Length] != '{' && line[name.Length] != ' '))
            {
                continue;
            }
            if (double.TryParse(line[(line.LastIndexOf(' ') + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                sum += value;
            }
        }
        return sum;
    }

    /// <summary>The sample of <paramref name="name"/> whose labels contain <paramref name="labelFragment"/>, or 0.</summary>
    public static double Sum(string text, string name, string labelFragment)
    {
        var lines = text.Split('\n').Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) && l.Contains(labelFragment, StringComparison.Ordinal));
        return Sum(string.Join('\n', lines), name);
    }
}
