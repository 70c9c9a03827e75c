using System.Security.Cryptography;
using System.Text.Json;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Atoll.Storage.State;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atoll.Server.Fleet;

/// <summary>
/// The provisioning control loop (Karpenter style): each pass syncs provider adapters and catalogs, moves every claim
/// one step through its lifecycle (launch, registration, initialization, liveness, termination), then brings each pool
/// to its desired size, writes statuses, and now and then sweeps provider accounts for orphans. Safe to run again at
/// any point; every claim write is fenced by the claim's version.
/// </summary>
internal sealed class FleetReconciler(
    IStateStore store, ProviderRegistry registry, OfferCatalog catalog, ClaimLauncher launcher, ClaimTerminator terminator,
    InstancePoller poller, OrphanSweeper sweeper, TimeProvider time, IOptions<ServerOptions> options, ILogger<FleetReconciler> logger)
    : BackgroundService
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly SemaphoreSlim wake = new(0, 1);
    private readonly SemaphoreSlim passLock = new(1, 1);
    private DateTimeOffset lastSweep = DateTimeOffset.MinValue;
    private DateTimeOffset lastPurge = DateTimeOffset.MinValue;

    private FleetOptions Fleet => options.Value.Fleet;

    /// <summary>Asks for a pass now (after apply or delete) instead of at the next tick.</summary>
    public void Trigger()
    {
        if (wake.CurrentCount == 0)
        {
            try
            {
                wake.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        }
    }

    /// <summary>Sets the cluster id (once, from the store) so instance names are recognisable.</summary>
    public async Task InitializeAsync(CancellationToken ct)
    {
        registry.ClusterId = await store.Fleet.GetOrAddSettingAsync("cluster-id", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3)), ct).ConfigureAwait(false);
    }

    /// <summary>One pass. Serialised: a pass asked for while one runs waits for it.</summary>
    public async Task ReconcileOnceAsync(CancellationToken ct)
    {
        await passLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await PassAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            passLock.Release();
        }
    }

    /// <summary>Refreshes every catalog now (for <c>atoll offers --refresh</c>).</summary>
    public async Task RefreshOffersAsync(CancellationToken ct)
    {
        var providers = await store.Fleet.ListResourcesAsync(ResourceKinds.Provider, ct).ConfigureAwait(false);
        await registry.SyncAsync(providers).ConfigureAwait(false);
        await catalog.RefreshAsync(registry.Entries, force: true, ct).ConfigureAwait(false);
    }

    /// <summary>Stops the loop, then the providers' local resources (the local provider's node processes) right away,
    /// before the web server drains its requests: those nodes' long polls would otherwise hold the shutdown.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await registry.DisposeAsync().ConfigureAwait(false);
    }

    public override void Dispose()
    {
        // The loop's token first: a host disposed without being stopped (its start failed) must not leave the loop
        // waiting on a disposed semaphore.
        base.Dispose();
        wake.Dispose();
        passLock.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await InitializeAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Fleet reconciler could not start");
            return;
        }
        if (!Fleet.Enabled)
        {
            logger.LogInformation("Provisioning is off: resources can be applied, nothing is launched");
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ReconcileOnceAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Fleet reconcile pass failed; retrying in {Interval}", Fleet.ReconcileInterval);
            }
            using var interval = new CancellationTokenSource(Fleet.ReconcileInterval, time);
            using var either = CancellationTokenSource.CreateLinkedTokenSource(interval.Token, stoppingToken);
            try
            {
                await wake.WaitAsync(either.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                // The interval passed: time for the next pass.
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task PassAsync(CancellationToken ct)
    {
        var providers = await store.Fleet.ListResourcesAsync(ResourceKinds.Provider, ct).ConfigureAwait(false);
        var poolResources = await store.Fleet.ListResourcesAsync(ResourceKinds.GpuPool, ct).ConfigureAwait(false);
        await registry.SyncAsync(providers).ConfigureAwait(false);
        await catalog.RefreshAsync(registry.Entries, force: false, ct).ConfigureAwait(false);

        var pools = new Dictionary<string, (PoolPolicy Policy, GpuPoolSpec Spec)>(StringComparer.Ordinal);
        var poolErrors = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var resource in poolResources)
        {
            try
            {
                var spec = ResourceSpecs.Pool(resource);
                pools[resource.Metadata.Name] = (PoolPolicy.From(resource.Metadata.Name, spec), spec);
            }
            catch (FormatException e)
            {
                poolErrors[resource.Metadata.Name] = e.Message;
            }
        }

        var nodes = (await store.ListNodesAsync(ct).ConfigureAwait(false)).Where(n => n.Claim is not null).ToDictionary(n => n.Claim!, StringComparer.Ordinal);
        foreach (var claim in await store.Fleet.ListClaimsAsync(null, false, ct).ConfigureAwait(false))
        {
            await StepAsync(claim, pools, poolErrors, nodes, ct).ConfigureAwait(false);
        }

        var active = await store.Fleet.ListClaimsAsync(null, false, ct).ConfigureAwait(false);
        foreach (var (name, (policy, spec)) in pools)
        {
            var mine = active.Where(c => c.Pool == name && ClaimPhases.IsActive(c.Phase)).ToList();
            var plan = PoolScaler.Plan(policy, mine);
            for (var i = 0; i < plan.ToCreate; i++)
            {
                var claim = new NodeClaim(ClaimName(name), name, ClaimPhases.Pending, time.GetUtcNow());
                if (await store.Fleet.InsertClaimAsync(claim, time.GetUtcNow(), ct).ConfigureAwait(false))
                {
                    logger.LogInformation("Pool {Pool}: new claim {Claim} ({Active} of {Desired})", name, claim.Name, mine.Count + i + 1, policy.Desired);
                    // Launch it in this pass; the store keeps a new claim at version 1.
                    await StepAsync(claim with { Version = 1 }, pools, poolErrors, nodes, ct).ConfigureAwait(false);
                }
            }
            foreach (var claim in plan.ToRemove)
            {
                var terminating = await store.Fleet.UpdateClaimAsync(ClaimProgress.Terminate(claim, $"scale down to {policy.Desired}", time.GetUtcNow()), time.GetUtcNow(), ct).ConfigureAwait(false);
                if (terminating is not null)
                {
                    await terminator.TerminateAsync(terminating, ct).ConfigureAwait(false);
                }
            }
        }

        active = await store.Fleet.ListClaimsAsync(null, false, ct).ConfigureAwait(false);
        await WriteStatusesAsync(poolResources, pools, poolErrors, active, ct).ConfigureAwait(false);

        var now = time.GetUtcNow();
        if (now - lastSweep >= Fleet.OrphanSweepInterval)
        {
            lastSweep = now;
            await sweeper.SweepAsync(await store.Fleet.ListClaimsAsync(null, true, ct).ConfigureAwait(false), ct).ConfigureAwait(false);
        }
        if (now - lastPurge >= TimeSpan.FromMinutes(10))
        {
            lastPurge = now;
            await store.Fleet.PurgeTerminatedClaimsAsync(now - Fleet.ClaimRetention, ct).ConfigureAwait(false);
        }
    }

    private async Task StepAsync(
        NodeClaim claim, Dictionary<string, (PoolPolicy Policy, GpuPoolSpec Spec)> pools, Dictionary<string, string> poolErrors,
        Dictionary<string, Core.Contracts.NodeView> nodes, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        NodeClaim? next = null;
        if (claim.Phase == ClaimPhases.Terminating)
        {
            next = claim;
        }
        else if (!pools.TryGetValue(claim.Pool, out var pool))
        {
            if (poolErrors.ContainsKey(claim.Pool))
            {
                return; // A spec that no longer reads is a mistake to fix, not a reason to drop running nodes.
            }
            next = await WriteAsync(ClaimProgress.Terminate(claim, $"pool {claim.Pool} was deleted", now), ct).ConfigureAwait(false);
        }
        else if (claim.Phase == ClaimPhases.Pending)
        {
            if (ClaimTimeouts.Expired(claim, pool.Policy, now) is { } expired)
            {
                next = await WriteAsync(ClaimProgress.Terminate(claim, expired + (claim.Reason is null ? "" : $"; last: {claim.Reason}"), now), ct).ConfigureAwait(false);
            }
            else
            {
                var launched = await launcher.LaunchAsync(claim, pool.Policy, pool.Spec.Bootstrap, await UsageAsync(claim.Pool, ct).ConfigureAwait(false), ct).ConfigureAwait(false);
                if (launched?.Provider is { } p)
                {
                    poller.Invalidate(p);
                    catalog.Expire(p);
                }
                return;
            }
        }
        else
        {
            var (known, instance) = await poller.GetAsync(claim, ct).ConfigureAwait(false);
            nodes.TryGetValue(claim.Name, out var node);
            if (ClaimProgress.Step(claim, pool.Policy, node, instance, known, now) is { } changed)
            {
                next = await WriteAsync(changed, ct).ConfigureAwait(false);
                if (next is not null && next.Phase != claim.Phase)
                {
                    logger.LogInformation("Claim {Claim}: {From} -> {To}{Reason}", claim.Name, claim.Phase, next.Phase, next.Reason is null ? "" : $" ({next.Reason})");
                }
            }
        }
        if (next is { Phase: ClaimPhases.Terminating })
        {
            await terminator.TerminateAsync(next, ct).ConfigureAwait(false);
            if (next.Provider is { } p)
            {
                poller.Invalidate(p);
                catalog.Expire(p);
            }
        }
    }

    private async Task<PoolUsage> UsageAsync(string pool, CancellationToken ct) =>
        PoolUsage.Of(await store.Fleet.ListClaimsAsync(pool, false, ct).ConfigureAwait(false));

    private Task<NodeClaim?> WriteAsync(NodeClaim claim, CancellationToken ct) => store.Fleet.UpdateClaimAsync(claim, time.GetUtcNow(), ct);

    private async Task WriteStatusesAsync(
        IReadOnlyList<ResourceDocument> poolResources, Dictionary<string, (PoolPolicy Policy, GpuPoolSpec Spec)> pools,
        Dictionary<string, string> poolErrors, IReadOnlyList<NodeClaim> active, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        foreach (var resource in poolResources)
        {
            var name = resource.Metadata.Name;
            var mine = active.Where(c => c.Pool == name).ToList();
            var message = poolErrors.GetValueOrDefault(name) ?? mine.Where(c => c.Phase == ClaimPhases.Pending && c.Reason is not null).Select(c => c.Reason).FirstOrDefault();
            var status = new PoolStatus(
                pools.TryGetValue(name, out var p) ? p.Policy.Desired : 0,
                mine.Count(c => c.Phase == ClaimPhases.Pending), mine.Count(c => c.Phase == ClaimPhases.Launched),
                mine.Count(c => c.Phase == ClaimPhases.Registered), mine.Count(c => c.Phase == ClaimPhases.Initialized),
                mine.Where(c => ClaimPhases.IsActive(c.Phase)).Sum(c => c.PricePerHour ?? 0), message, now);
            await SetStatusAsync(ResourceKinds.GpuPool, resource, status, s => s with { UpdatedAt = default }, ct).ConfigureAwait(false);
        }
        foreach (var entry in registry.Entries)
        {
            var view = catalog.View(entry);
            var status = new ProviderStatus(view.State, view.Message, view.Offers, view.RefreshedAt,
                active.Count(c => c.Provider == entry.Name && c.InstanceId is not null));
            var resource = await store.Fleet.GetResourceAsync(ResourceKinds.Provider, entry.Name, ct).ConfigureAwait(false);
            if (resource is not null)
            {
                await SetStatusAsync(ResourceKinds.Provider, resource, status, s => s, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Writes the status only when it changed in more than its time stamp, to spare the store a write per pass.</summary>
    private async Task SetStatusAsync<T>(string kind, ResourceDocument resource, T status, Func<T, T> normalize, CancellationToken ct)
    {
        if (resource.Status is { } old && JsonSerializer.Deserialize<T>(old.GetRawText(), Json) is { } previous && Equals(normalize(previous), normalize(status)))
        {
            return;
        }
        await store.Fleet.SetStatusAsync(kind, resource.Metadata.Name, JsonSerializer.Serialize(status, Json), ct).ConfigureAwait(false);
    }

    private static string ClaimName(string pool)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        var suffix = string.Create(5, 0, (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)];
            }
        });
        return $"{(pool.Length > 56 ? pool[..56].TrimEnd('-') : pool)}-{suffix}";
    }
}
