using Atoll.Core.Fleet;

namespace Atoll.Testing.Providers;

/// <summary>
/// A VM a <see cref="TensorDockStandIn"/> knows, with the <c>cloud_init</c> it was created with, so that a system
/// test can "boot" it: write its <see cref="WriteFiles"/> (the join token is in them), run its <see cref="RunCommands"/>.
/// </summary>
public sealed class TensorDockStandInInstance
{
    internal TensorDockStandInInstance(string id, string name, string location, string gpu, int gpuCount, DateTimeOffset createdAt)
    {
        Id = id;
        Name = name;
        Location = location;
        Gpu = gpu;
        GpuCount = gpuCount;
        CreatedAt = createdAt;
    }

    public string Id { get; }

    public string Name { get; }

    public string Location { get; }

    /// <summary>The GPU's <c>v0Name</c>.</summary>
    public string Gpu { get; }

    public int GpuCount { get; }

    public DateTimeOffset CreatedAt { get; }

    /// <summary>starting, running, stopping, stopped, deleting, deleted or error.</summary>
    public string Status { get; internal set; } = "starting";

    /// <summary>Null until assigned (late in boot).</summary>
    public string? Ip { get; internal set; }

    public int VcpuCount { get; internal set; }

    public int RamGb { get; internal set; }

    public int StorageGb { get; internal set; }

    public string? Image { get; internal set; }

    public string? SshKey { get; internal set; }

    public bool UseDedicatedIp { get; internal set; }

    /// <summary>The create's <c>cloud_init</c> object as sent.</summary>
    public string? CloudInitJson { get; internal set; }

    public IReadOnlyList<string> Packages { get; internal set; } = [];

    public IReadOnlyList<BootstrapFile> WriteFiles { get; internal set; } = [];

    public IReadOnlyList<string> RunCommands { get; internal set; } = [];

    /// <summary>How many GETs have reported it (drives the slow boot).</summary>
    public int Polls { get; internal set; }

    internal bool ForcedBoot { get; set; }

    internal bool HoldsCapacity { get; set; }
}
