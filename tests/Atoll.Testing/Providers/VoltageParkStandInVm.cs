using Atoll.Core.Fleet;

namespace Atoll.Testing.Providers;

/// <summary>
/// A VM a <see cref="VoltageParkStandIn"/> knows, with the cloud-init it was created with, so that a system test
/// can "boot" it: write its <see cref="WriteFiles"/> (the join token is in them), run its <see cref="RunCommands"/>.
/// </summary>
public sealed class VoltageParkStandInVm
{
    internal VoltageParkStandInVm(string id, string name, string presetId, string location, DateTimeOffset createdAt)
    {
        Id = id;
        Name = name;
        PresetId = presetId;
        Location = location;
        CreatedAt = createdAt;
    }

    public string Id { get; }

    public string Name { get; }

    /// <summary>The <c>config_id</c> it was created from.</summary>
    public string PresetId { get; }

    public string Location { get; }

    public DateTimeOffset CreatedAt { get; }

    /// <summary>Running, Stopped, StoppedDisassociated, Terminated, Outbid or Relocating.</summary>
    public string Status { get; internal set; } = "Running";

    /// <summary><c>ondem</c>, <c>spot</c> or <c>subscription</c>.</summary>
    public string Type { get; internal set; } = "ondem";

    /// <summary>Null until assigned (late in boot).</summary>
    public string? PublicIp { get; internal set; }

    public string? InternalIp { get; internal set; }

    /// <summary>The create's <c>cloud_init</c> object as sent.</summary>
    public string? CloudInitJson { get; internal set; }

    public IReadOnlyList<string> Packages { get; internal set; } = [];

    public IReadOnlyList<BootstrapFile> WriteFiles { get; internal set; } = [];

    public IReadOnlyList<string> RunCommands { get; internal set; } = [];

    public IReadOnlyList<string> Tags { get; internal set; } = [];

    /// <summary>The <c>organization_ssh_keys</c> object as sent.</summary>
    public string? OrganizationSshKeysJson { get; internal set; }

    /// <summary>How many GETs have reported it (drives the late IP).</summary>
    public int Polls { get; internal set; }

    internal bool ForcedBoot { get; set; }

    internal bool TerminatedSeen { get; set; }

    internal bool HoldsCapacity { get; set; }
}
