using System.Globalization;
using System.Text.RegularExpressions;

namespace Atoll.Core;

/// <summary>Parses human durations such as "90s", "10m", "1h", "1h30m", "2d" (what users type for TTLs and timeouts).</summary>
public static partial class Durations
{
    [GeneratedRegex(@"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")]
    private static partial Regex Pattern();

    /// <summary>Parses <paramref name="text"/>; throws <see cref="FormatException"/> naming the accepted form.</summary>
    public static TimeSpan Parse(string text, string what = "duration")
    {
        if (TryParse(text, out var value))
        {
            return value;
        }
        throw new FormatException($"invalid {what} '{text}': expected a positive duration such as 90s, 10m, 1h, 1h30m or 2d");
    }

    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        var trimmed = text?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(trimmed))
        {
            return false;
        }
        var m = Pattern().Match(trimmed);
        if (!m.Success)
        {
            return false;
        }
        try
        {
            value = TimeSpan.FromDays(Part(m, 1)) + TimeSpan.FromHours(Part(m, 2))
                + TimeSpan.FromMinutes(Part(m, 3)) + TimeSpan.FromSeconds(Part(m, 4));
        }
        catch (OverflowException)
        {
            return false;
        }
        return value > TimeSpan.Zero;
    }

    /// <summary>Formats like "1h30m" / "45s", the inverse of <see cref="Parse"/>.</summary>
    public static string Format(TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            return "0s";
        }
        var parts = new List<string>(4);
        if (value.Days > 0) { parts.Add($"{value.Days}d"); }
        if (value.Hours > 0) { parts.Add($"{value.Hours}h"); }
        if (value.Minutes > 0) { parts.Add($"{value.Minutes}m"); }
        if (value.Seconds > 0 || parts.Count == 0) { parts.Add($"{value.Seconds}s"); }
        return string.Concat(parts);
    }

    private static long Part(Match m, int group) =>
        m.Groups[group].Success ? long.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture) : 0;
}
