using Atoll.Core.Fleet;
using Atoll.Providers;
using Microsoft.Extensions.Logging;

namespace Atoll.Server.Fleet;

/// <summary>
/// Terminates provider instances that carry this cluster's name but that no claim owns: the claim is gone or
/// Terminated, or it holds another instance. A Pending claim whose create was interrupted is not an owner-less case:
/// the launcher adopts its instance. Instances of other clusters and other people are never touched.
/// </summary>
internal sealed class OrphanSweeper(ProviderRegistry registry, ILogger<OrphanSweeper> logger)
{
    /// <summary>Sweeps every provider; returns the ids terminated.</summary>
    public async Task<IReadOnlyList<string>> SweepAsync(IReadOnlyList<NodeClaim> allClaims, CancellationToken ct)
    {
        var claims = allClaims.ToDictionary(c => c.Name, StringComparer.Ordinal);
        var swept = new List<string>();
        foreach (var entry in registry.Entries)
        {
            if (entry.Provider is not { } provider)
            {
                continue;
            }
            IReadOnlyList<CloudInstance> instances;
            try
            {
                instances = await provider.ListAsync(ct).ConfigureAwait(false);
            }
            catch (ProviderException e)
            {
                logger.LogWarning("Orphan sweep: cannot list {Provider} ({Reason}): {Message}", entry.Name, e.Reason, e.Message);
                continue;
            }
            foreach (var instance in instances)
            {
                if (instance.State is InstanceState.Terminated or InstanceState.Terminating
                    || InstanceNames.ClaimOf(registry.ClusterId, instance.Name) is not { } claimName)
                {
                    continue;
                }
                claims.TryGetValue(claimName, out var claim);
                var why = claim switch
                {
                    null => "no claim of that name exists",
                    { Phase: ClaimPhases.Terminated } => "its claim is Terminated",
                    { InstanceId: { } owned } when owned != instance.Id => $"its claim owns instance {owned}",
                    _ => null,
                };
                if (why is null)
                {
                    continue;
                }
                try
                {
                    await provider.DeleteAsync(instance.Id, ct).ConfigureAwait(false);
                    swept.Add(instance.Id);
                    logger.LogWarning("Orphan sweep: terminated {Instance} ({Name}) at {Provider}: {Why}", instance.Id, instance.Name, entry.Name, why);
                }
                catch (ProviderException e)
                {
                    logger.LogWarning("Orphan sweep: could not terminate {Instance} at {Provider} ({Reason}): {Message}", instance.Id, entry.Name, e.Reason, e.Message);
                }
            }
        }
        return swept;
    }
}
