namespace Atoll.Cli.Commands;

/// <summary>Parses repeatable KEY=VALUE options, with an error naming the option and the expected form.</summary>
internal static class KeyValues
{
    /// <summary>KEY=VALUE items where each key may appear once (labels).</summary>
    public static Dictionary<string, string> Parse(string[]? items, string option, string form, int exitCode = 1)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in Pairs(items, option, form, exitCode))
        {
            if (!result.TryAdd(key, value))
            {
                throw new CliException($"invalid {option}: '{key}' given twice", exitCode);
            }
        }
        return result;
    }

    /// <summary>KEY=VALUE items where a key may repeat (one model served at several URLs).</summary>
    public static List<(string Key, string Value)> Pairs(string[]? items, string option, string form, int exitCode = 1)
    {
        var result = new List<(string, string)>();
        foreach (var item in items ?? [])
        {
            var eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == item.Length - 1)
            {
                throw new CliException($"invalid {option} '{item}': expected {form}", exitCode);
            }
            result.Add((item[..eq].Trim(), item[(eq + 1)..].Trim()));
        }
        return result;
    }
}
