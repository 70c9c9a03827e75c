namespace Atoll.Core.Bootstrap;

/// <summary>Where the bootstrap puts the agent on a node; the SSH provider removes the same files to hand a host back.</summary>
public static class BootstrapPaths
{
    /// <summary>The <c>atoll</c> binary.</summary>
    public const string Binary = "/usr/local/bin/atoll";

    /// <summary>The agent's environment (server URL, join token, arguments); mode 0600.</summary>
    public const string EnvFile = "/etc/atoll/agent.env";

    /// <summary>The systemd unit's name.</summary>
    public const string UnitName = "atoll-agent";

    /// <summary>The systemd unit file.</summary>
    public const string UnitFile = "/etc/systemd/system/atoll-agent.service";

    /// <summary>The agent's state directory (node credential) by default.</summary>
    public const string StateDir = "/var/lib/atoll";

    /// <summary>Where cloud-init writes the bootstrap script before it runs it.</summary>
    public const string Script = "/var/lib/atoll/bootstrap.sh";

    /// <summary>The unattended-upgrades blacklist that keeps NVIDIA packages where they are.</summary>
    public const string NvidiaBlacklist = "/etc/apt/apt.conf.d/51atoll-nvidia-blacklist";
}
