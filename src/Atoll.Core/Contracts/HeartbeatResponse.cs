namespace Atoll.Core.Contracts;

/// <summary>The server's answer to a heartbeat: the interval it expects next.</summary>
public sealed record HeartbeatResponse(int HeartbeatIntervalSeconds);
