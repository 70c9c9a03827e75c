namespace Atoll.Core.Bootstrap;

/// <summary>Everything one node's bootstrap is rendered from (see <see cref="BootstrapRenderer"/>).</summary>
/// <param name="ServerUrl">The control plane URL the agent joins (http or https).</param>
/// <param name="JoinToken">The one-time join token; written only to the agent's environment file, never to a command line.</param>
/// <param name="NodeName">The node name (RFC 1123, see <c>NodeNames</c>).</param>
/// <param name="Provider">The Provider resource's name.</param>
/// <param name="ProviderType">One of <c>ProviderTypes.All</c>.</param>
/// <param name="InstanceType">The provider's instance type; empty when it has none.</param>
/// <param name="CapacityType"><c>spot</c> or <c>on-demand</c>.</param>
/// <param name="GpuModel">Canonical GPU model (<c>H100</c>), null for CPU nodes.</param>
/// <param name="Labels">Extra node labels; the <c>atoll.dev/</c> labels the bootstrap sets itself win over these.</param>
/// <param name="Taints">Kubernetes taints (<c>key[=value]:Effect</c>) for the k3s join.</param>
/// <param name="AgentUrl">Where the node downloads the <c>atoll</c> binary.</param>
/// <param name="PinNvidiaDriver">Hold the installed NVIDIA packages and keep unattended-upgrades off them.</param>
/// <param name="ExtraCommands">Shell commands run (each by <c>bash -c</c>) after the agent started.</param>
/// <param name="StateDir">The agent's <c>--state</c> directory.</param>
/// <param name="Location">Site or data centre (<c>--location</c>), when known.</param>
public sealed record BootstrapSettings(
    string ServerUrl,
    string JoinToken,
    string NodeName,
    string Provider,
    string ProviderType,
    string Region,
    string InstanceType,
    string CapacityType,
    string? GpuModel,
    int GpuCount,
    string Pool,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyList<string> Taints,
    string AgentUrl,
    bool PinNvidiaDriver,
    IReadOnlyList<string> ExtraCommands,
    string StateDir = BootstrapPaths.StateDir,
    string? Location = null);
