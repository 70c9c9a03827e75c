using System.Text.RegularExpressions;
using YamlDotNet.Core;

namespace Atoll.Core.Resources;

/// <summary>
/// What a plain (unquoted) YAML scalar is, by the YAML 1.2 core schema: <c>null</c>/<c>~</c>/empty, <c>true</c>/<c>false</c>,
/// integers (also <c>0x</c>, <c>0o</c>), floats; anything else is a string. YAML 1.1's <c>yes</c>/<c>no</c>/<c>on</c>/<c>off</c> stay
/// strings when read (no Norway problem) but are quoted when written, for readers that still follow 1.1.
/// </summary>
internal static partial class YamlScalars
{
    public enum Kind
    {
        String,
        Null,
        Bool,
        Integer,
        Hex,
        Octal,
        Float,
        /// <summary><c>.inf</c>, <c>.nan</c>: floats to YAML, not representable in JSON; read as strings.</summary>
        NonFinite,
    }

    public static Kind Resolve(string? value)
    {
        if (string.IsNullOrEmpty(value) || value is "~" or "null" or "Null" or "NULL")
        {
            return Kind.Null;
        }
        if (value is "true" or "True" or "TRUE" or "false" or "False" or "FALSE")
        {
            return Kind.Bool;
        }
        var first = value[0];
        if (!(char.IsAsciiDigit(first) || first is '-' or '+' or '.'))
        {
            return Kind.String;
        }
        return IntegerPattern().IsMatch(value) ? Kind.Integer
            : HexPattern().IsMatch(value) ? Kind.Hex
            : OctalPattern().IsMatch(value) ? Kind.Octal
            : FloatPattern().IsMatch(value) ? Kind.Float
            : NonFinitePattern().IsMatch(value) ? Kind.NonFinite
            : Kind.String;
    }

    /// <summary>True when a string must be quoted to be read back as the same string (by 1.2 and 1.1 readers).</summary>
    public static bool NeedsQuotes(string value) =>
        value.Length == 0 || Resolve(value) != Kind.String || Yaml11Bool().IsMatch(value);

    /// <summary>
    /// How to write a string so that it reads back unchanged: plain only for plain words (names, URLs, taints), a
    /// literal block for ordinary multi-line text (scripts), double quotes for everything else. Deliberately stricter
    /// than YAML needs: the emitter's own analysis lets a leading tab through as plain, which no reader accepts.
    /// </summary>
    public static ScalarStyle StyleFor(string value)
    {
        if (NeedsQuotes(value))
        {
            return ScalarStyle.DoubleQuoted;
        }
        if (value.Contains('\n'))
        {
            return LiteralSafe(value) ? ScalarStyle.Literal : ScalarStyle.DoubleQuoted;
        }
        return PlainSafe(value) ? ScalarStyle.Plain : ScalarStyle.DoubleQuoted;
    }

    private static bool PlainSafe(string value)
    {
        if (!(char.IsLetterOrDigit(value[0]) || value[0] is '_' or '/' or '.') || value[^1] is ' ' or ':'
            || value.Contains(": ", StringComparison.Ordinal) || value.Contains(" #", StringComparison.Ordinal))
        {
            return false;
        }
        foreach (var c in value)
        {
            if (!(char.IsLetterOrDigit(c) || c is '_' or '/' or '.' or '+' or '=' or '@' or '-' or ':' or ' ' or '~' or '%' or ','))
            {
                return false;
            }
        }
        return true;
    }

    // Lines of printable text without tabs, carriage returns or trailing spaces, the first not indented.
    private static bool LiteralSafe(string value) =>
        value[0] is not (' ' or '\n') && value.Split('\n').All(line => line.Length == 0 || (line[^1] != ' '
            && line.All(c => c >= ' ' && c != '\u007f' && !char.IsSurrogate(c))));

    [GeneratedRegex("^[-+]?[0-9]+$")]
    private static partial Regex IntegerPattern();

    [GeneratedRegex("^0x[0-9a-fA-F]+$")]
    private static partial Regex HexPattern();

    [GeneratedRegex("^0o[0-7]+$")]
    private static partial Regex OctalPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();

    [GeneratedRegex(@"^([-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$")]
    private static partial Regex NonFinitePattern();

    [GeneratedRegex("^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$")]
    private static partial Regex Yaml11Bool();
}
