namespace Atoll.Core.Fleet;

/// <summary>
/// How Atoll names (tags) the instances it creates, so that it can recognise its own in a provider account
/// that other people and other Atoll clusters share: <c>atoll-&lt;cluster&gt;-&lt;claim&gt;</c>.
/// </summary>
public static class InstanceNames
{
    public const string Prefix = "atoll-";

    /// <summary>The instance name for a claim of a cluster.</summary>
    public static string For(string clusterId, string claimName) => string.Concat(Prefix, clusterId, "-", claimName);

    /// <summary>The claim name when <paramref name="instanceName"/> is an instance of this cluster, else null.</summary>
    public static string? ClaimOf(string clusterId, string? instanceName)
    {
        var prefix = string.Concat(Prefix, clusterId, "-");
        return instanceName is not null && instanceName.StartsWith(prefix, StringComparison.Ordinal) && instanceName.Length > prefix.Length
            ? instanceName[prefix.Length..]
            : null;
    }
}
