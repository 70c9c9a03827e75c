using Atoll.Core.Contracts;
using Atoll.Core.Fleet;

namespace Atoll.Core.Bootstrap;

/// <summary>
/// Renders a node's bootstrap in every form providers accept (<see cref="BootstrapBundle"/>): a bash script, a
/// <c>#cloud-config</c> document, its structured parts, and the agent command line for the local provider.
/// Pure: no I/O, same settings give the same text.
/// </summary>
public static class BootstrapRenderer
{
    /// <summary>The Debian packages the structured cloud-init form installs before running the script.</summary>
    public static readonly IReadOnlyList<string> Packages = ["curl", "ca-certificates"];

    private static readonly string[] TaintEffects = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

    /// <summary>Renders <paramref name="s"/>; throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public static BootstrapBundle Render(BootstrapSettings s)
    {
        Validate(s);
        var labels = NodeLabelsOf(s);
        var args = AgentInvocation.Arguments(s, labels);
        var envFile = AgentInvocation.EnvFile(s, args);
        var script = BootstrapScript.Render(s, envFile, AgentInvocation.Unit(args));
        IReadOnlyList<BootstrapFile> files =
        [
            new(BootstrapPaths.EnvFile, envFile, "0600"),
            new(BootstrapPaths.Script, script, "0700"),
        ];
        IReadOnlyList<string> runCommands = ["bash " + BootstrapPaths.Script];
        return new BootstrapBundle(
            script,
            CloudConfigWriter.Write(Packages, files, runCommands),
            files,
            runCommands,
            Packages,
            AgentInvocation.Command(s, args));
    }

    /// <summary>The node's labels: Atoll's own (<see cref="NodeLabels"/>) first, then the extra ones by key.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> NodeLabelsOf(BootstrapSettings s)
    {
        var own = new List<KeyValuePair<string, string>>
        {
            new(NodeLabels.Provider, s.Provider),
            new(NodeLabels.ProviderType, s.ProviderType),
            new(NodeLabels.Region, s.Region),
        };
        if (!string.IsNullOrEmpty(s.InstanceType))
        {
            own.Add(new(NodeLabels.InstanceType, s.InstanceType));
        }
        own.Add(new(NodeLabels.CapacityType, s.CapacityType));
        own.Add(new(NodeLabels.Pool, s.Pool));
        if (!string.IsNullOrEmpty(s.GpuModel) && s.GpuCount > 0)
        {
            own.Add(new(NodeLabels.Gpu, s.GpuModel));
            own.Add(new(NodeLabels.GpuCount, s.GpuCount.ToString()));
        }
        var ownKeys = own.Select(l => l.Key).ToHashSet(StringComparer.Ordinal);
        own.AddRange(s.Labels.Where(l => !ownKeys.Contains(l.Key)).OrderBy(l => l.Key, StringComparer.Ordinal));
        return own;
    }

    private static void Validate(BootstrapSettings s)
    {
        Url(s.ServerUrl, nameof(s.ServerUrl));
        Url(s.AgentUrl, nameof(s.AgentUrl));
        if (string.IsNullOrEmpty(s.JoinToken) || s.JoinToken.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw new ArgumentException("JoinToken must be non-empty, without spaces or control characters", nameof(s));
        }
        if (NodeNames.Validate(s.NodeName) is { } badName)
        {
            throw new ArgumentException($"NodeName: {badName}", nameof(s));
        }
        if (!CapacityTypes.IsValid(s.CapacityType))
        {
            throw new ArgumentException($"CapacityType '{s.CapacityType}' is invalid: use '{CapacityTypes.Spot}' or '{CapacityTypes.OnDemand}'", nameof(s));
        }
        Required(s.Provider, nameof(s.Provider));
        Required(s.ProviderType, nameof(s.ProviderType));
        Required(s.Region, nameof(s.Region));
        Required(s.Pool, nameof(s.Pool));
        Required(s.StateDir, nameof(s.StateDir));
        Text(s.InstanceType, nameof(s.InstanceType));
        Text(s.Location ?? "", nameof(s.Location));
        foreach (var (key, value) in NodeLabelsOf(s))
        {
            if (key.Length == 0 || key.Length > 253 || key.Contains('=', StringComparison.Ordinal) || key.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                throw new ArgumentException($"label key '{key}' is invalid: non-empty, at most 253 characters, no '=' or spaces", nameof(s));
            }
            if (value.Length > 63 || value.Any(char.IsControl))
            {
                throw new ArgumentException($"label '{key}' has an invalid value: at most 63 characters, no control characters", nameof(s));
            }
        }
        foreach (var taint in s.Taints)
        {
            var colon = taint.LastIndexOf(':');
            if (colon <= 0 || !TaintEffects.Contains(taint[(colon + 1)..], StringComparer.Ordinal) || taint.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                throw new ArgumentException($"taint '{taint}' is invalid: expected key[=value]:{string.Join('|', TaintEffects)}", nameof(s));
            }
        }
        foreach (var command in s.ExtraCommands)
        {
            if (string.IsNullOrWhiteSpace(command) || command.Any(c => char.IsControl(c) && c is not '\n' and not '\t'))
            {
                throw new ArgumentException("ExtraCommands: a command is empty or has control characters other than newline and tab", nameof(s));
            }
        }
    }

    private static void Url(string value, string field)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https") || value.Any(char.IsControl))
        {
            throw new ArgumentException($"{field} '{value}' is invalid: expected an absolute http(s) URL", field);
        }
    }

    private static void Required(string value, string field)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new ArgumentException($"{field} is required", field);
        }
        Text(value, field);
    }

    // systemd refuses environment values with control characters, and the agent's flags have no use for them.
    private static void Text(string value, string field)
    {
        if (value.Any(char.IsControl))
        {
            throw new ArgumentException($"{field} must not contain control characters", field);
        }
    }
}
