namespace Atoll.Core.Resources;

/// <summary>How new nodes of a pool are set up.</summary>
/// <param name="AgentUrl">Where a new VM downloads the <c>atoll</c> binary; default: the server's <c>/downloads/atoll</c>.</param>
/// <param name="PinNvidiaDriver">Hold the NVIDIA packages and keep unattended-upgrades off them (default true).</param>
/// <param name="Commands">Extra shell commands run after the agent is installed.</param>
public sealed record PoolBootstrap(string? AgentUrl = null, bool PinNvidiaDriver = true, IReadOnlyList<string>? Commands = null);
