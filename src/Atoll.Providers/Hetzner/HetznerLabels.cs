using System.Text;

namespace Atoll.Providers.Hetzner;

/// <summary>
/// Atoll's tags as Hetzner labels. Hetzner's rules: a key is an optional DNS-subdomain prefix (at most 253
/// characters) and '/', then a name of at most 63 characters; names and values (which may be empty) begin and end
/// with a letter or digit and hold only letters, digits, '-', '_' and '.'. Anything else is replaced by '-' and
/// trimmed, so <c>atoll.dev/claim</c> stays as is and <c>Atoll Dev/pool name!</c> becomes <c>atoll-dev/pool-name</c>.
/// </summary>
internal static class HetznerLabels
{
    /// <summary>On every server Atoll creates, whatever the cluster: what <c>ListAsync</c> selects on.</summary>
    public const string Managed = "atoll.dev/managed";

    public const string Selector = Managed + "=true";

    private const int MaxName = 63;
    private const int MaxPrefix = 253;

    /// <summary>The sanitized tags plus <see cref="Managed"/>; tags whose key sanitizes to nothing are dropped.</summary>
    public static Dictionary<string, string> From(IReadOnlyDictionary<string, string> tags)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in tags)
        {
            if (Key(key) is { } k)
            {
                labels[k] = Value(value);
            }
        }
        labels[Managed] = "true";
        return labels;
    }

    /// <summary>A valid label key for <paramref name="key"/>, or null when nothing of it is usable.</summary>
    public static string? Key(string key)
    {
        var slash = key.LastIndexOf('/');
        var name = Name(slash >= 0 ? key[(slash + 1)..] : key);
        if (name.Length == 0)
        {
            return null;
        }
        if (slash < 0)
        {
            return name;
        }
        var prefix = Clean(key[..slash].ToLowerInvariant(), c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '-', MaxPrefix);
        return prefix.Length == 0 ? name : prefix + "/" + name;
    }

    /// <summary>A valid label value (possibly empty).</summary>
    public static string Value(string value) => Name(value);

    private static string Name(string text) => Clean(text, c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.', MaxName);

    // Invalid characters become '-', then the ends are trimmed to a letter or digit and the length cut to max.
    private static string Clean(string text, Func<char, bool> allowed, int max)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(allowed(c) ? c : '-');
        }
        var cleaned = builder.ToString().Trim('-', '_', '.');
        if (cleaned.Length > max)
        {
            cleaned = cleaned[..max].TrimEnd('-', '_', '.');
        }
        return cleaned;
    }
}
