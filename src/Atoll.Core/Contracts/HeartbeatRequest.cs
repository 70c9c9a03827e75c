namespace Atoll.Core.Contracts;

/// <summary>Periodic report of a node; <see cref="Name"/> must be the node the credential belongs to.</summary>
public sealed record HeartbeatRequest(string Name, GpuReport Gpu, IReadOnlyList<ModelEndpoint>? Models);
