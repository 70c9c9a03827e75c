namespace Atoll.Core.Fleet;

/// <summary>A provider instance's state in Atoll's terms.</summary>
public enum InstanceState
{
    /// <summary>Ordered, provisioning or booting.</summary>
    Pending,

    /// <summary>Running (the agent may or may not have joined yet).</summary>
    Running,

    /// <summary>Being stopped or deleted.</summary>
    Terminating,

    /// <summary>Gone or deleted.</summary>
    Terminated,

    /// <summary>A spot instance taken back by the provider (Voltage Park's <c>Outbid</c>, Verda's spot discontinue).</summary>
    Preempted,

    /// <summary>The provider reports an error or an unhealthy instance.</summary>
    Failed,

    /// <summary>A status Atoll does not know; treated like Running but shown as is.</summary>
    Unknown,
}
