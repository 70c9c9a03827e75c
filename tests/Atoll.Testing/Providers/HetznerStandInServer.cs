namespace Atoll.Testing.Providers;

/// <summary>
/// A server a <see cref="HetznerStandIn"/> knows, with the <c>user_data</c> (Atoll's cloud-config) and labels it was
/// created with, so that a system test can "boot" it by reading the join token out of <see cref="UserData"/>.
/// </summary>
public sealed class HetznerStandInServer
{
    internal HetznerStandInServer(long id, string name, HetznerStandInServerType type, string location, DateTimeOffset createdAt)
    {
        Id = id;
        Name = name;
        Type = type;
        Location = location;
        CreatedAt = createdAt;
    }

    public long Id { get; }

    public string Name { get; }

    public HetznerStandInServerType Type { get; }

    public string Location { get; }

    public DateTimeOffset CreatedAt { get; }

    /// <summary>initializing, starting, running, stopping, off, deleting, migrating, rebuilding or unknown.</summary>
    public string Status { get; internal set; } = "initializing";

    /// <summary>Null until assigned (a slow boot; Hetzner normally assigns it at create).</summary>
    public string? Ip { get; internal set; }

    public string? Image { get; internal set; }

    public string? UserData { get; internal set; }

    public IReadOnlyDictionary<string, string> Labels { get; internal set; } = new Dictionary<string, string>();

    public IReadOnlyList<string> SshKeys { get; internal set; } = [];

    public bool StartAfterCreate { get; internal set; }

    /// <summary>How many <c>actions/reboot</c> named it.</summary>
    public int Reboots { get; internal set; }

    /// <summary>How many GETs have reported it (drives the slow boot).</summary>
    public int Polls { get; internal set; }

    internal bool ForcedBoot { get; set; }

    internal bool HoldsCapacity { get; set; }
}
