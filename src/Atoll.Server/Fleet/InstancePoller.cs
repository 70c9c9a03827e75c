using Atoll.Core.Fleet;
using Atoll.Providers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atoll.Server.Fleet;

/// <summary>
/// Asks each provider for its Atoll instances at most once per poll interval (one list call, not one call per
/// claim: provider rate limits are low), and confirms with a get before calling an instance gone, since lists
/// can lag a fresh create.
/// </summary>
internal sealed class InstancePoller(ProviderRegistry registry, TimeProvider time, IOptions<ServerOptions> options, ILogger<InstancePoller> logger)
{
    private readonly Dictionary<string, (DateTimeOffset At, Dictionary<string, CloudInstance> Instances)> lists = new(StringComparer.Ordinal);

    /// <summary>The instance of <paramref name="claim"/>: (known, instance) where known is false when the provider could not be asked.</summary>
    public async Task<(bool Known, CloudInstance? Instance)> GetAsync(NodeClaim claim, CancellationToken ct)
    {
        if (claim.InstanceId is not { } id || claim.Provider is not { } name || registry.Get(name)?.Provider is not { } provider)
        {
            return (false, null);
        }
        var now = time.GetUtcNow();
        try
        {
            if (!lists.TryGetValue(name, out var list) || now - list.At >= options.Value.Fleet.InstancePollInterval)
            {
                var fetched = await provider.ListAsync(ct).ConfigureAwait(false);
                list = (now, fetched.GroupBy(i => i.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal));
                lists[name] = list;
            }
            if (list.Instances.TryGetValue(id, out var instance) && instance.State is not (InstanceState.Terminated or InstanceState.Preempted or InstanceState.Failed))
            {
                return (true, instance);
            }
            var confirmed = await provider.GetAsync(id, ct).ConfigureAwait(false);
            if (confirmed is not null)
            {
                list.Instances[id] = confirmed;
            }
            return (true, confirmed);
        }
        catch (ProviderException e)
        {
            logger.LogWarning("Provider {Provider}: instance state unavailable ({Reason}): {Message}", name, e.Reason, e.Message);
            return (false, null);
        }
    }

    /// <summary>Forgets cached lists (after launches and terminations the next look must be fresh).</summary>
    public void Invalidate(string provider) => lists.Remove(provider);
}
