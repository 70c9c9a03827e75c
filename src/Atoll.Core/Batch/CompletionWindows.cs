namespace Atoll.Core.Batch;

/// <summary>Parses a batch's <c>completion_window</c>: "24h" (OpenAI's only value) or another duration up to a configured maximum.</summary>
public static class CompletionWindows
{
    public const string Default = "24h";

    /// <summary>Throws <see cref="FormatException"/> with a message naming the accepted values.</summary>
    public static TimeSpan Parse(string? text, TimeSpan max) =>
        TryParse(text, max, out var window, out var error) ? window : throw new FormatException(error);

    public static bool TryParse(string? text, TimeSpan max, out TimeSpan window, out string? error)
    {
        error = null;
        if (!Durations.TryParse(text, out window))
        {
            error = $"invalid completion_window '{text}': expected a duration such as 24h, 1h, 48h or 7d, at most {Durations.Format(max)}";
            return false;
        }
        if (window > max)
        {
            error = $"completion_window '{text}' is longer than the maximum of {Durations.Format(max)}";
            window = TimeSpan.Zero;
            return false;
        }
        return true;
    }
}
