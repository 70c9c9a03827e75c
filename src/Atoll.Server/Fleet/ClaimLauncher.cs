using Atoll.Core.Bootstrap;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Atoll.Core.Security;
using Atoll.Providers;
using Atoll.Storage.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atoll.Server.Fleet;

/// <summary>
/// The launch step of a Pending claim: choose the cheapest offer that fits, bind a one-time join token to the claim,
/// render its bootstrap and create the instance. A capacity or quota error marks the offer (or the provider)
/// unavailable and moves on to the next offer at once; every offer tried is recorded on the claim with its outcome.
/// Before calling the provider the claim is written with a <c>Launching</c> attempt, so that after a crash between
/// create and record the next pass adopts the instance instead of launching a second one.
/// </summary>
internal sealed class ClaimLauncher(
    IStateStore store, ProviderRegistry registry, OfferCatalog catalog, UnavailableOffers unavailable, TimeProvider time,
    IOptions<ServerOptions> options, ILogger<ClaimLauncher> logger)
{
    public const string Launching = "Launching";
    public const string Launched = "Launched";

    /// <summary>Tries to launch <paramref name="claim"/>; returns the claim as stored afterwards (or null if another writer won).</summary>
    public async Task<NodeClaim?> LaunchAsync(NodeClaim claim, PoolPolicy pool, PoolBootstrap? bootstrap, PoolUsage usage, CancellationToken ct)
    {
        if (claim.Attempts is { Count: > 0 } attempts && attempts[^1].Outcome == Launching)
        {
            var adopted = await AdoptAsync(claim, attempts[^1], ct).ConfigureAwait(false);
            if (adopted is null || adopted.Phase != ClaimPhases.Pending)
            {
                return adopted;
            }
            claim = adopted;
        }

        var tried = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Value.Fleet.LaunchAttemptsPerPass; i++)
        {
            var selection = OfferSelector.Select(pool, catalog.Offers, usage, unavailable, tried);
            if (selection.Chosen is not { } offer)
            {
                return claim.Reason == selection.Summary ? claim : await WriteAsync(claim with { Reason = selection.Summary }, ct).ConfigureAwait(false);
            }
            tried.Add(offer.Key);
            if (registry.Get(offer.Provider)?.Provider is not { } provider)
            {
                unavailable.MarkProvider(offer.Provider, null, ProviderErrorReason.Unauthorized, "provider not configured");
                continue;
            }

            var now = time.GetUtcNow();
            var token = Tokens.New(Tokens.JoinPrefix);
            var tokenId = Tokens.NewId();
            var ttl = pool.LaunchTimeout + pool.RegistrationTimeout;
            await store.AddJoinTokenAsync(new JoinTokenRecord(tokenId, Tokens.Hash(token), 1, now + ttl, pool.Name, $"claim {claim.Name}", now, claim.Name), ct).ConfigureAwait(false);
            var launching = await WriteAsync(claim with
            {
                JoinTokenId = tokenId,
                Attempts = [.. claim.Attempts ?? [], new OfferAttempt(offer.Key, offer.PricePerHour, Launching, "create requested", now)],
            }, ct).ConfigureAwait(false);
            if (launching is null)
            {
                await store.DeleteJoinTokenAsync(tokenId, ct).ConfigureAwait(false);
                return null;
            }
            claim = launching;

            var instanceName = InstanceNames.For(registry.ClusterId, claim.Name);
            var request = new LaunchRequest(instanceName, offer, Render(claim, pool, bootstrap, offer, token), Tags(claim, pool));
            try
            {
                var instance = await provider.CreateAsync(request, ct).ConfigureAwait(false);
                logger.LogInformation("Claim {Claim}: launched {Instance} at {Offer} for ${Price}/h", claim.Name, instance.Id, offer.Key, offer.PricePerHour);
                return await WriteAsync(Record(claim, offer, Launched, $"instance {instance.Id}") with
                {
                    Phase = ClaimPhases.Launched,
                    Provider = offer.Provider,
                    ProviderType = offer.ProviderType,
                    InstanceType = offer.InstanceType,
                    Region = offer.Region,
                    CapacityType = offer.CapacityType,
                    GpuModel = offer.GpuModel,
                    GpuCount = offer.GpuCount,
                    PricePerHour = offer.PricePerHour,
                    OnDemandPricePerHour = offer.OnDemandPricePerHour,
                    InstanceId = instance.Id,
                    LaunchedAt = time.GetUtcNow(),
                    Reason = null,
                }, ct).ConfigureAwait(false);
            }
            catch (ProviderException e)
            {
                await store.DeleteJoinTokenAsync(tokenId, ct).ConfigureAwait(false);
                logger.LogWarning("Claim {Claim}: {Offer} failed ({Reason}): {Message}", claim.Name, offer.Key, e.Reason, e.Message);
                Remember(offer, e);
                var failed = await WriteAsync(Record(claim, offer, e.Reason.ToString(), e.Message) with { JoinTokenId = null, Reason = $"{offer.Key}: {e.Reason}: {e.Message}" }, ct).ConfigureAwait(false);
                if (failed is null)
                {
                    return null;
                }
                claim = failed;
                if (e.Reason == ProviderErrorReason.RateLimited)
                {
                    // Pushing on would only earn more 429s; the next pass tries again.
                    return claim;
                }
            }
        }
        return claim;
    }

    private void Remember(Offer offer, ProviderException e)
    {
        switch (e.Reason)
        {
            case ProviderErrorReason.QuotaExceeded:
                unavailable.MarkProvider(offer.Provider, null, e.Reason, e.Message);
                break;
            case ProviderErrorReason.Unauthorized:
                unavailable.MarkProvider(offer.Provider, null, e.Reason, e.Message);
                catalog.MarkUnauthorized(offer.Provider, e.Message);
                break;
            case ProviderErrorReason.RateLimited:
                break;
            default:
                unavailable.Mark(offer, e.Reason, e.Message);
                break;
        }
    }

    /// <summary>After a crash mid-create: the instance named for this claim, if the provider has one, becomes the claim's.</summary>
    private async Task<NodeClaim?> AdoptAsync(NodeClaim claim, OfferAttempt attempt, CancellationToken ct)
    {
        var offer = catalog.Offers.FirstOrDefault(o => o.Key == attempt.OfferKey);
        if (OfferKey.TryParse(attempt.OfferKey, out var key) && registry.Get(key.Provider)?.Provider is { } provider)
        {
            var name = InstanceNames.For(registry.ClusterId, claim.Name);
            var found = (await provider.ListAsync(ct).ConfigureAwait(false)).FirstOrDefault(i => i.Name == name && i.State is not (InstanceState.Terminated or InstanceState.Terminating));
            if (found is not null)
            {
                logger.LogWarning("Claim {Claim}: adopting instance {Instance} created before a restart", claim.Name, found.Id);
                return await WriteAsync(Record(claim, offer, Launched, $"adopted instance {found.Id} after a restart", attempt) with
                {
                    Phase = ClaimPhases.Launched,
                    Provider = key.Provider,
                    ProviderType = provider.Type,
                    InstanceType = key.InstanceType,
                    Region = key.Region,
                    CapacityType = key.CapacityType,
                    GpuModel = offer?.GpuModel,
                    GpuCount = offer?.GpuCount ?? 0,
                    PricePerHour = attempt.PricePerHour,
                    OnDemandPricePerHour = offer?.OnDemandPricePerHour,
                    InstanceId = found.Id,
                    LaunchedAt = time.GetUtcNow(),
                    Reason = null,
                }, ct).ConfigureAwait(false);
            }
        }
        if (claim.JoinTokenId is { } stale)
        {
            await store.DeleteJoinTokenAsync(stale, ct).ConfigureAwait(false);
        }
        return await WriteAsync(Record(claim, offer, "Abandoned", "the server stopped during the create and the provider has no such instance", attempt) with { JoinTokenId = null }, ct).ConfigureAwait(false);
    }

    /// <summary>Replaces the trailing Launching attempt with its outcome.</summary>
    private NodeClaim Record(NodeClaim claim, Offer? offer, string outcome, string message, OfferAttempt? launching = null)
    {
        var attempts = (claim.Attempts ?? []).ToList();
        var last = launching ?? attempts.LastOrDefault();
        if (attempts.Count > 0 && attempts[^1].Outcome == Launching)
        {
            attempts.RemoveAt(attempts.Count - 1);
        }
        attempts.Add(new OfferAttempt(offer?.Key ?? last?.OfferKey ?? "?", offer?.PricePerHour ?? last?.PricePerHour ?? 0, outcome, message, time.GetUtcNow()));
        // Keep the record readable: the most recent attempts tell the story.
        return claim with { Attempts = attempts.Count > 50 ? attempts[^50..] : attempts };
    }

    private Task<NodeClaim?> WriteAsync(NodeClaim claim, CancellationToken ct) => store.Fleet.UpdateClaimAsync(claim, time.GetUtcNow(), ct);

    private BootstrapBundle Render(NodeClaim claim, PoolPolicy pool, PoolBootstrap? bootstrap, Offer offer, string token)
    {
        var server = options.Value;
        var publicUrl = (server.PublicUrl ?? server.Listen).TrimEnd('/');
        return BootstrapRenderer.Render(new BootstrapSettings(
            ServerUrl: publicUrl,
            JoinToken: token,
            NodeName: claim.Name,
            Provider: offer.Provider,
            ProviderType: offer.ProviderType,
            Region: offer.Region,
            InstanceType: offer.InstanceType,
            CapacityType: offer.CapacityType,
            GpuModel: offer.GpuModel,
            GpuCount: offer.GpuCount,
            Pool: pool.Name,
            Labels: pool.Labels,
            Taints: pool.Taints,
            AgentUrl: bootstrap?.AgentUrl ?? server.Fleet.AgentUrl ?? publicUrl + "/downloads/atoll",
            PinNvidiaDriver: bootstrap?.PinNvidiaDriver ?? true,
            ExtraCommands: bootstrap?.Commands ?? []));
    }

    private Dictionary<string, string> Tags(NodeClaim claim, PoolPolicy pool) => new(StringComparer.Ordinal)
    {
        ["atoll.dev/cluster"] = registry.ClusterId,
        ["atoll.dev/claim"] = claim.Name,
        ["atoll.dev/pool"] = pool.Name,
    };
}
