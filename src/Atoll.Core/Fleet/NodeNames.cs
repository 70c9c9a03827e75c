using System.Text.RegularExpressions;

namespace Atoll.Core.Fleet;

/// <summary>Node names follow Kubernetes node-name rules (RFC 1123 subdomain) so they can become K3s node names.</summary>
public static partial class NodeNames
{
    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Pattern();

    /// <summary>Null when valid, else a message saying what is wrong.</summary>
    public static string? Validate(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return "node name is empty";
        }
        if (name.Length > 253)
        {
            return $"node name '{name[..20]}...' is longer than 253 characters";
        }
        return Pattern().IsMatch(name)
            ? null
            : $"node name '{name}' is invalid: use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit";
    }

    /// <summary>Turns a host name into a valid node name ("GPU_Box.1" → "gpu-box.1").</summary>
    public static string FromHostName(string host)
    {
        var lowered = Regex.Replace(host.ToLowerInvariant(), "[^a-z0-9.-]", "-").Trim('-', '.');
        return string.IsNullOrEmpty(lowered) ? "node" : lowered;
    }
}
