namespace Atoll.Core.Contracts;

/// <summary>The node's own credential: shown once, stored by the agent, hashed by the server.</summary>
public sealed record RegisterNodeResponse(string NodeName, string Credential, int HeartbeatIntervalSeconds);
