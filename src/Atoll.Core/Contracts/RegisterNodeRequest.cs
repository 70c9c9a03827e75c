namespace Atoll.Core.Contracts;

/// <summary>
/// Sent by an agent with its join token as bearer to become a node. <see cref="RegistrationKey"/> is a secret the
/// agent keeps in its state directory before it first registers: when the answer to a registration is lost (the
/// server committed it, the agent never saw it), a retry with the same join token, name and key gets a new
/// credential instead of "no uses left" or "name in use".
/// </summary>
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
    string? AgentVersion,
    string? RegistrationKey = null);
