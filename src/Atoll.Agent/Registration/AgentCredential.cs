namespace Atoll.Agent.Registration;

/// <summary>What the agent keeps between restarts: which server, which node, and the node's secret.</summary>
public sealed record AgentCredential(string Server, string NodeName, string Credential);
