namespace Atoll.Agent;

/// <summary>Exit codes of <c>atoll agent</c>, so that systemd units and scripts can tell why it stopped.</summary>
public static class AgentExitCodes
{
    public const int Ok = 0;

    /// <summary>Cannot start: bad settings, no or refused join token.</summary>
    public const int Config = 2;

    /// <summary>The node was deleted on the server; its credential no longer works.</summary>
    public const int Revoked = 3;
}
