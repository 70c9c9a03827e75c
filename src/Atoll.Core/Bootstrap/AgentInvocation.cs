using System.Text;

namespace Atoll.Core.Bootstrap;

/// <summary>
/// The <c>atoll agent</c> arguments of a node, and the two files that run it under systemd: the environment
/// file holds every value (so the unit's command line holds none and needs no systemd quoting), the unit passes
/// each as <c>${NAME}</c>, which systemd turns into exactly one argument whatever it contains.
/// </summary>
internal static class AgentInvocation
{
    public const string JoinTokenVariable = "ATOLL_JOIN_TOKEN";

    /// <summary>The agent's flags in order, each with the environment variable that carries its value.</summary>
    public static IReadOnlyList<(string Flag, string Variable, string Value)> Arguments(
        BootstrapSettings s, IReadOnlyList<KeyValuePair<string, string>> labels)
    {
        var args = new List<(string, string, string)>
        {
            ("--server", "ATOLL_SERVER", s.ServerUrl),
            ("--name", "ATOLL_NODE_NAME", s.NodeName),
            ("--provider", "ATOLL_PROVIDER", s.Provider),
            ("--region", "ATOLL_REGION", s.Region),
        };
        if (!string.IsNullOrEmpty(s.Location))
        {
            args.Add(("--location", "ATOLL_LOCATION", s.Location));
        }
        if (!string.IsNullOrEmpty(s.InstanceType))
        {
            args.Add(("--instance-type", "ATOLL_INSTANCE_TYPE", s.InstanceType));
        }
        args.Add(("--capacity-type", "ATOLL_CAPACITY_TYPE", s.CapacityType));
        for (var i = 0; i < labels.Count; i++)
        {
            args.Add(("--label", $"ATOLL_LABEL_{i + 1}", $"{labels[i].Key}={labels[i].Value}"));
        }
        args.Add(("--state", "ATOLL_STATE_DIR", s.StateDir));
        return args;
    }

    /// <summary>The environment file (mode 0600): the join token and every argument value.</summary>
    public static string EnvFile(BootstrapSettings s, IReadOnlyList<(string Flag, string Variable, string Value)> args)
    {
        var text = new StringBuilder()
            .Append("# atoll-agent environment, written by the Atoll bootstrap (systemd EnvironmentFile; also valid bash).\n")
            .Append(JoinTokenVariable).Append('=').Append(ShellQuote.EnvValue(s.JoinToken)).Append('\n');
        foreach (var (_, variable, value) in args)
        {
            text.Append(variable).Append('=').Append(ShellQuote.EnvValue(value)).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>
    /// The systemd unit. No <c>--join-token</c> on ExecStart: the agent reads <c>ATOLL_JOIN_TOKEN</c> from its
    /// environment, so the token never shows in <c>ps</c>.
    /// </summary>
    public static string Unit(IReadOnlyList<(string Flag, string Variable, string Value)> args)
    {
        var exec = new StringBuilder(BootstrapPaths.Binary).Append(" agent");
        foreach (var (flag, variable, _) in args)
        {
            exec.Append(' ').Append(flag).Append(" ${").Append(variable).Append('}');
        }
        return $"""
            [Unit]
            Description=Atoll node agent
            Wants=network-online.target
            After=network-online.target

            [Service]
            Type=simple
            EnvironmentFile={BootstrapPaths.EnvFile}
            ExecStart={exec}
            Restart=always
            RestartSec=5
            # AgentExitCodes.Config (bad settings, refused join token) and Revoked (node deleted): restarting cannot help.
            RestartPreventExitStatus=2 3

            [Install]
            WantedBy=multi-user.target

            """;
    }

    /// <summary>The argument list for a process start (local provider): the token is passed as <c>--join-token</c> here.</summary>
    public static IReadOnlyList<string> Command(BootstrapSettings s, IReadOnlyList<(string Flag, string Variable, string Value)> args)
    {
        var command = new List<string> { "agent" };
        foreach (var (flag, _, value) in args)
        {
            command.Add(flag);
            command.Add(value);
            if (flag == "--server")
            {
                command.Add("--join-token");
                command.Add(s.JoinToken);
            }
        }
        return command;
    }
}
