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

    /// <summary>Runs the batch worker when the node serves models (<c>--no-batch</c> turns it off).</summary>
    public bool BatchEnabled { get; init; } = true;

    /// <summary>Batch requests sent to the local model server at once.</summary>
    public int BatchConcurrency { get; init; } = 8;

    /// <summary>
    /// Batch work waits while the local endpoint has more than this many interactive requests running or waiting
    /// (vLLM's <c>/metrics</c>, minus the worker's own requests); 0 never waits.
    /// </summary>
    public int BatchYieldAbove { get; init; } = 4;

    /// <summary>Retries of one batch request after a connection error, timeout, 429 or 5xx, before the chunk's attempt fails.</summary>
    public int BatchMaxRetries { get; init; } = 3;

    /// <summary>Wait before the first retry of a batch request; doubles with each retry.</summary>
    public TimeSpan BatchRetryDelay { get; init; } = TimeSpan.FromSeconds(0.5);

    /// <summary>Longest a single batch request may take on the local model server (long generations are slow).</summary>
    public TimeSpan BatchRequestTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a lease poll waits on the server for work (the server caps it at about 25 s).</summary>
    public int LeaseWaitSeconds { get; init; } = 20;

    /// <summary>Overrides the lease heartbeat interval (default: a third of the lease's length; tests).</summary>
    public TimeSpan? LeaseHeartbeatInterval { get; init; }

    public static string DefaultStateDir() =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".atoll-agent");
}
