using Atoll.Core.Fleet;
using Atoll.Providers;
using Atoll.Storage.State;
using Microsoft.Extensions.Logging;

namespace Atoll.Server.Fleet;

/// <summary>
/// Finishes a Terminating claim: deletes the instance at the provider, then the node (revoking its credential) and the
/// claim's join token, and marks the claim Terminated. A failed delete leaves the claim Terminating for the next pass,
/// so an instance is never forgotten while it may still cost money.
/// </summary>
internal sealed class ClaimTerminator(IStateStore store, ProviderRegistry registry, TimeProvider time, ILogger<ClaimTerminator> logger)
{
    public async Task<NodeClaim?> TerminateAsync(NodeClaim claim, CancellationToken ct)
    {
        var reason = claim.Reason;
        if (claim.InstanceId is { } instanceId && claim.Provider is { } providerName)
        {
            if (registry.Get(providerName)?.Provider is { } provider)
            {
                try
                {
                    await provider.DeleteAsync(instanceId, ct).ConfigureAwait(false);
                    logger.LogInformation("Claim {Claim}: instance {Instance} at {Provider} terminated ({Reason})", claim.Name, instanceId, providerName, claim.Reason);
                }
                catch (ProviderException e)
                {
                    logger.LogWarning("Claim {Claim}: terminating instance {Instance} at {Provider} failed ({ErrorReason}): {Message}; will retry",
                        claim.Name, instanceId, providerName, e.Reason, e.Message);
                    var note = $"terminate failed, retrying: {e.Reason}: {e.Message}";
                    return claim.Reason?.Contains(note, StringComparison.Ordinal) == true
                        ? claim
                        : await store.Fleet.UpdateClaimAsync(claim with { Reason = $"{FirstPart(claim.Reason)}; {note}" }, time.GetUtcNow(), ct).ConfigureAwait(false);
                }
            }
            else
            {
                logger.LogError("Claim {Claim}: provider {Provider} is no longer configured; instance {Instance} may still run there: delete it by hand",
                    claim.Name, providerName, instanceId);
                reason = $"{FirstPart(claim.Reason)}; provider {providerName} is no longer configured: instance {instanceId} may still run there";
            }
        }
        if (claim.NodeName is { } node)
        {
            await store.DeleteNodeAsync(node, ct).ConfigureAwait(false);
        }
        if (claim.JoinTokenId is { } token)
        {
            await store.DeleteJoinTokenAsync(token, ct).ConfigureAwait(false);
        }
        return await store.Fleet.UpdateClaimAsync(claim with { Phase = ClaimPhases.Terminated, TerminatedAt = time.GetUtcNow(), Reason = reason }, time.GetUtcNow(), ct).ConfigureAwait(false);
    }

    private static string? FirstPart(string? reason) => reason?.Split("; terminate failed", 2)[0];
}
