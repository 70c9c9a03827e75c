namespace Atoll.Testing.Providers;

/// <summary>
/// An instance a <see cref="VerdaStandIn"/> knows, with its startup script's text (<see cref="StartupScript"/>) so
/// that a system test can "boot" it: run the script, then <see cref="VerdaStandIn.Boot"/> it with a reachable IP.
/// </summary>
public sealed class VerdaStandInInstance
{
    internal VerdaStandInInstance(string id, string hostname, string instanceType, string location, bool isSpot, DateTimeOffset createdAt)
    {
        Id = id;
        Hostname = hostname;
        InstanceType = instanceType;
        Location = location;
        IsSpot = isSpot;
        CreatedAt = createdAt;
    }

    public string Id { get; }

    public string Hostname { get; }

    public string InstanceType { get; }

    public string Location { get; }

    public bool IsSpot { get; }

    public DateTimeOffset CreatedAt { get; }

    /// <summary>ordered, provisioning, running, offline, starting_hibernation, hibernating, restoring or error.</summary>
    public string Status { get; internal set; } = "ordered";

    /// <summary>The public IP, null until provisioned.</summary>
    public string? Ip { get; internal set; }

    public string Description { get; internal set; } = "";

    public string Image { get; internal set; } = "";

    public IReadOnlyList<string> SshKeyIds { get; internal set; } = [];

    public string? StartupScriptId { get; internal set; }

    /// <summary>The text of the startup script the instance was created with (Atoll's bootstrap).</summary>
    public string? StartupScript { get; internal set; }

    /// <summary>The create's <c>os_volume</c> object, as JSON.</summary>
    public string? OsVolume { get; internal set; }

    /// <summary>How many GETs have reported this instance (drives the slow boot).</summary>
    public int Polls { get; internal set; }

    internal bool ForcedBoot { get; set; }

    internal bool HoldsCapacity { get; set; }
}
