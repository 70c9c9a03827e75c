namespace Atoll.Core.Contracts;

/// <summary>Sent by an agent with its join token as bearer to become a node.</summary>
public sealed record RegisterNodeRequest(
    string Name,
    string Provider,
    string Region,
    string? Location,
    string? InstanceType,
    string CapacityType,
    IReadOnlyDictionary<string, string>? Labels,
    GpuReport? Gpu,
    IReadOnlyList<ModelEndpoint>? Models,
    string? AgentVersion);
