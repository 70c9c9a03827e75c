namespace Atoll.Cli.Output;

/// <summary>"12s", "5m", "3h", "2d": how kubectl shows ages.</summary>
internal static class Ages
{
    public static string Since(DateTimeOffset then, DateTimeOffset now)
    {
        var span = now - then;
        if (span < TimeSpan.Zero)
        {
            span = TimeSpan.Zero;
        }
        return span.TotalSeconds < 120 ? $"{(int)span.TotalSeconds}s"
            : span.TotalMinutes < 120 ? $"{(int)span.TotalMinutes}m"
            : span.TotalHours < 48 ? $"{(int)span.TotalHours}h"
            : $"{(int)span.TotalDays}d";
    }
}
