namespace Atoll.Core.Fleet;

/// <summary>
/// A node claim's lifecycle (Karpenter's model): Pending → Launched → Registered → Initialized, and
/// Terminating → Terminated from any phase. Strings, so that the API and the store show them as they are.
/// </summary>
public static class ClaimPhases
{
    /// <summary>No instance yet: an offer is being chosen and created.</summary>
    public const string Pending = "Pending";

    /// <summary>The provider accepted the create; the instance id is known.</summary>
    public const string Launched = "Launched";

    /// <summary>The node's agent joined with the join token bound to this claim.</summary>
    public const string Registered = "Registered";

    /// <summary>The node is Ready and its GPUs are healthy: it serves.</summary>
    public const string Initialized = "Initialized";

    /// <summary>The instance is being terminated (timeout, preemption, scale down, pool deleted).</summary>
    public const string Terminating = "Terminating";

    /// <summary>The instance is gone; the claim is kept for a while so that people can see what happened.</summary>
    public const string Terminated = "Terminated";

    /// <summary>True for claims that count toward a pool's size.</summary>
    public static bool IsActive(string phase) => phase is Pending or Launched or Registered or Initialized;
}
