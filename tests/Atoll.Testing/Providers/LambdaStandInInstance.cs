namespace Atoll.Testing.Providers;

/// <summary>
/// An instance a <see cref="LambdaStandIn"/> knows, with what it was launched with (<see cref="UserData"/>), so that
/// a system test can "boot" it: run its cloud-init, then <see cref="LambdaStandIn.Boot"/> it with a reachable IP.
/// </summary>
public sealed class LambdaStandInInstance
{
    internal LambdaStandInInstance(string id, string name, string instanceType, string region, DateTimeOffset createdAt)
    {
        Id = id;
        Name = name;
        InstanceType = instanceType;
        Region = region;
        CreatedAt = createdAt;
    }

    public string Id { get; }

    public string Name { get; }

    public string InstanceType { get; }

    public string Region { get; }

    public DateTimeOffset CreatedAt { get; }

    /// <summary>booting, active, unhealthy, terminating, terminated or preempted.</summary>
    public string Status { get; internal set; } = "booting";

    /// <summary>The public IP, null until assigned (late in boot, as Lambda does).</summary>
    public string? Ip { get; internal set; }

    public string? PrivateIp { get; internal set; }

    /// <summary>The launch's <c>user_data</c> (Atoll's cloud-config).</summary>
    public string? UserData { get; internal set; }

    public IReadOnlyList<string> SshKeyNames { get; internal set; } = [];

    /// <summary>How many GETs have reported this instance (drives the slow boot).</summary>
    public int Polls { get; internal set; }

    /// <summary>How many times <c>instance-operations/restart</c> named it.</summary>
    public int Restarts { get; internal set; }

    /// <summary>True when booted by <see cref="LambdaStandIn.Boot"/> rather than by polls and time.</summary>
    internal bool ForcedBoot { get; set; }

    /// <summary>True once a GET has reported it terminating: the next one no longer finds it.</summary>
    internal bool TerminatingSeen { get; set; }

    /// <summary>Whether it holds capacity of its type and region.</summary>
    internal bool HoldsCapacity { get; set; }
}
