using System.Globalization;
using System.Text;

namespace Atoll.Sim;

/// <summary>A Prometheus histogram with fixed bucket bounds, in seconds.</summary>
internal sealed class Histogram(string name, string help, double[] bounds)
{
    private readonly long[] counts = new long[bounds.Length];
    private readonly Lock gate = new();
    private double sum;
    private long count;

    public void Observe(TimeSpan value)
    {
        var seconds = value.TotalSeconds;
        lock (gate)
        {
            for (var i = 0; i < bounds.Length; i++)
            {
                if (seconds <= bounds[i])
                {
                    counts[i]++;
                }
            }
            sum += seconds;
            count++;
        }
    }

    public void Write(StringBuilder text, string labels)
    {
        lock (gate)
        {
            text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            text.Append("# TYPE ").Append(name).Append(" histogram\n");
            for (var i = 0; i < bounds.Length; i++)
            {
                text.Append(name).Append("_bucket{").Append(labels).Append(",le=\"")
                    .Append(bounds[i].ToString(CultureInfo.InvariantCulture)).Append("\"} ").Append(counts[i]).Append('\n');
            }
            text.Append(name).Append("_bucket{").Append(labels).Append(",le=\"+Inf\"} ").Append(count).Append('\n');
            text.Append(name).Append("_sum{").Append(labels).Append("} ").Append(sum.ToString(CultureInfo.InvariantCulture)).Append('\n');
            text.Append(name).Append("_count{").Append(labels).Append("} ").Append(count).Append('\n');
        }
    }
}
