namespace Atoll.Core.Contracts;

/// <summary>A node as the control API shows it.</summary>
public sealed record NodeView(
    string Name,
    string Provider,
    string Region,
    string? Location,
    string? InstanceType,
    string CapacityType,
    string? Pool,
    IReadOnlyDictionary<string, string> Labels,
    GpuReport Gpu,
    IReadOnlyList<ModelEndpoint> Models,
    IReadOnlyList<NodeCondition> Conditions,
    DateTimeOffset RegisteredAt,
    DateTimeOffset LastHeartbeatAt,
    string? AgentVersion,
    string? Claim = null);
