using Atoll.Core.Contracts;
using Atoll.Core.Fleet;

namespace Atoll.Server.Fleet;

/// <summary>
/// The registration, initialization and liveness steps of a launched claim (Karpenter's lifecycle), as a pure
/// decision from what the store and the provider report: the claim to write, or null when nothing changed.
/// </summary>
internal static class ClaimProgress
{
    /// <param name="node">The node registered with this claim's join token, if any.</param>
    /// <param name="instance">The provider's view of the instance; null when the provider no longer knows it; not consulted when <paramref name="instanceKnown"/> is false.</param>
    /// <param name="instanceKnown">False when the provider could not be asked this pass.</param>
    public static NodeClaim? Step(NodeClaim claim, PoolPolicy pool, NodeView? node, CloudInstance? instance, bool instanceKnown, DateTimeOffset now)
    {
        if (instanceKnown && Gone(instance) is { } gone)
        {
            return Terminate(claim, gone, now);
        }
        switch (claim.Phase)
        {
            case ClaimPhases.Launched when node is not null:
                claim = claim with { Phase = ClaimPhases.Registered, NodeName = node.Name, RegisteredAt = now, Reason = null };
                return Initialized(claim, pool, node, now) ?? claim;
            case ClaimPhases.Registered when node is null:
                return Terminate(claim, $"node {claim.NodeName} was deleted", now);
            case ClaimPhases.Registered:
                if (Initialized(claim, pool, node, now) is { } initialized)
                {
                    return initialized;
                }
                break;
            case ClaimPhases.Initialized when node is null:
                return Terminate(claim, $"node {claim.NodeName} was deleted", now);
        }
        return ClaimTimeouts.Expired(claim, pool, now) is { } expired ? Terminate(claim, expired, now) : null;
    }

    public static NodeClaim Terminate(NodeClaim claim, string reason, DateTimeOffset now) =>
        claim with { Phase = ClaimPhases.Terminating, TerminatingAt = now, Reason = reason };

    private static NodeClaim? Initialized(NodeClaim claim, PoolPolicy pool, NodeView node, DateTimeOffset now)
    {
        var ready = NodeConditions.IsTrue(node.Conditions, ConditionTypes.Ready);
        var gpus = pool.GpusPerNode == 0 || NodeConditions.IsTrue(node.Conditions, ConditionTypes.GpuReady);
        return ready && gpus ? claim with { Phase = ClaimPhases.Initialized, InitializedAt = now, Reason = null } : null;
    }

    private static string? Gone(CloudInstance? instance) => instance switch
    {
        null => "the instance disappeared from the provider",
        { State: InstanceState.Preempted } => $"spot instance preempted by the provider (status {instance.RawStatus})",
        { State: InstanceState.Terminated or InstanceState.Terminating } => $"the instance was terminated outside Atoll (status {instance.RawStatus})",
        { State: InstanceState.Failed } => $"the provider reports the instance failed (status {instance.RawStatus})",
        _ => null,
    };
}
