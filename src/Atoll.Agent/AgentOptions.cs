using Atoll.Core.Contracts;

namespace Atoll.Agent;

/// <summary>Settings of <c>atoll agent</c>: who this node is and where its control plane lives.</summary>
public sealed class AgentOptions
{
    /// <summary>Base URL of the control plane, e.g. http://10.0.0.1:7070.</summary>
    public required Uri Server { get; init; }

    /// <summary>One-time join token; needed only until the node has a credential in <see cref="StateDir"/>.</summary>
    public string? JoinToken { get; init; }

    public required string Name { get; init; }

    public string Provider { get; init; } = "local";

    public string Region { get; init; } = "local";

    public string? Location { get; init; }

    public string? InstanceType { get; init; }

    public string CapacityType { get; init; } = CapacityTypes.OnDemand;

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<ModelEndpoint> Models { get; init; } = [];

    /// <summary>Where the node credential is kept so that a restart needs no new join token.</summary>
    public required string StateDir { get; init; }

    /// <summary>Overrides the interval the server asks for (tests and demos).</summary>
    public TimeSpan? HeartbeatInterval { get; init; }

    /// <summary>First wait before retrying an unreachable server; doubles up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest wait between retries while the server is unreachable.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Timeout of each HTTP call to the server (WAN links are slow, not dead).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(15);

    public static string DefaultStateDir() =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".atoll-agent");
}
