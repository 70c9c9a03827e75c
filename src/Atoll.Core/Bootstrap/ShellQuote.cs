using System.Text;

namespace Atoll.Core.Bootstrap;

/// <summary>
/// Quotes values for the two places the bootstrap puts them: bash command lines (<see cref="Word"/>) and
/// files that both bash sources and systemd reads as an <c>EnvironmentFile</c> (<see cref="EnvValue"/>).
/// </summary>
public static class ShellQuote
{
    /// <summary>
    /// One bash word that expands to exactly <paramref name="value"/>: left bare when it holds only safe
    /// characters, else in single quotes with each <c>'</c> written as <c>'\''</c>. Throws on NUL, which no
    /// argument can carry.
    /// </summary>
    public static string Word(string value)
    {
        RejectNul(value);
        if (value.Length > 0 && value.All(IsSafe))
        {
            return value;
        }
        return "'" + value.Replace("'", @"'\''", StringComparison.Ordinal) + "'";
    }

    /// <summary>
    /// A double-quoted value that bash (<c>source</c>) and systemd's <c>EnvironmentFile</c> parser read back
    /// the same: both undo <c>\\</c>, <c>\"</c>, <c>\$</c> and <c>\`</c> inside double quotes and expand nothing
    /// else there that this leaves unescaped. Single quotes are not used because systemd does not join
    /// <c>'a'\''b'</c> the way bash does.
    /// </summary>
    public static string EnvValue(string value)
    {
        RejectNul(value);
        var builder = new StringBuilder(value.Length + 2);
        builder.Append('"');
        foreach (var c in value)
        {
            if (c is '\\' or '"' or '$' or '`')
            {
                builder.Append('\\');
            }
            builder.Append(c);
        }
        return builder.Append('"').ToString();
    }

    private static bool IsSafe(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '/' or ':' or ',' or '+' or '@' or '%' or '=';

    private static void RejectNul(string value)
    {
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("a shell value cannot contain a NUL character", nameof(value));
        }
    }
}
