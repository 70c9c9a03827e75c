namespace Atoll.Cli.Commands;

/// <summary>Parses repeatable KEY=VALUE options, with an error naming the option and the expected form.</summary>
internal static class KeyValues
{
    public static Dictionary<string, string> Parse(string[]? items, string option, string form, int exitCode = 1)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in items ?? [])
        {
            var eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == item.Length - 1)
            {
                throw new CliException($"invalid {option} '{item}': expected {form}", exitCode);
            }
            var key = item[..eq].Trim();
            if (!result.TryAdd(key, item[(eq + 1)..].Trim()))
            {
                throw new CliException($"invalid {option}: '{key}' given twice", exitCode);
            }
        }
        return result;
    }
}
