namespace Atoll.System.Tests;

/// <summary>Reading what a CLI command printed.</summary>
internal static class CliOutput
{
    /// <summary>The non-empty lines of <paramref name="text"/>.</summary>
    public static IReadOnlyList<string> Lines(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>True when the text looks like an unhandled .NET exception (a stack frame line).</summary>
    public static bool HasStackTrace(string text) =>
        text.Contains("   at ", StringComparison.Ordinal) || text.Contains("Unhandled exception", StringComparison.Ordinal);
}
