using System.Collections.Concurrent;
using System.Text;
using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Microsoft.Extensions.Logging;

namespace Atoll.Providers.Ssh;

/// <summary>
/// Bring-your-own machines (<c>type: ssh</c>): one on-demand offer per host; "create" logs in, claims the host
/// with a marker file (<c>stateDir/claim</c> holding the instance name) and runs the bootstrap script; "delete"
/// removes the agent and the marker. The instance id is the host's <c>address:port</c>. Settings: see <see cref="SshSettings"/>.
/// </summary>
public sealed class SshCloudProvider : ICloudProvider
{
    private readonly ProviderContext context;
    private readonly SshSettings settings;
    private readonly IReadOnlyList<SshHost> hosts;
    private readonly ILogger logger;

    // The instance each host was last seen claimed by, so Get can tell "not reachable" from "gone".
    private readonly ConcurrentDictionary<string, string> lastClaims = new(StringComparer.Ordinal);

    public SshCloudProvider(ProviderContext context)
    {
        this.context = context;
        settings = SshSettings.From(context.Name, context.Spec.Settings);
        logger = context.Logging.CreateLogger<SshCloudProvider>();
        var list = new List<SshHost>();
        foreach (var spec in context.Spec.Hosts ?? [])
        {
            var type = SshHost.InstanceTypeOf(spec);
            if (list.Any(h => h.InstanceType == type))
            {
                type = $"{type}-{list.Count + 1}";
            }
            list.Add(new SshHost(spec, type, () => PrivateKeyOf(spec), context.Secrets.GetValueOrDefault("privateKeyPassphrase")));
        }
        hosts = list;
    }

    public string Name => context.Name;

    public string Type => ProviderTypes.Ssh;

    public bool CanReboot => true;

    public async Task<IReadOnlyList<Offer>> GetOffersAsync(CancellationToken ct)
    {
        var regions = context.Spec.Regions ?? [];
        var eligible = hosts.Where(h => regions.Count == 0 || regions.Contains(h.Region, StringComparer.Ordinal)).ToList();
        var states = await AcrossAsync(eligible, async h =>
        {
            try
            {
                return (Claim: await ReadClaimAsync(h, attempts: 1, ct).ConfigureAwait(false), Error: (ProviderException?)null);
            }
            catch (ProviderException e)
            {
                logger.LogWarning("provider {Provider}: host {Host} is unavailable: {Reason}: {Message}", Name, h.Id, e.Reason, e.Message);
                return (Claim: null, Error: e);
            }
        }, ct).ConfigureAwait(false);
        // One unusable host makes its offer unavailable; every host refusing the key means the credentials are wrong.
        if (states.Length > 0 && states.All(s => s.Error?.Reason == ProviderErrorReason.Unauthorized))
        {
            throw states[0].Error!;
        }
        return eligible.Select((h, i) => new Offer(
            Name, Type, h.InstanceType, h.Region, CapacityTypes.OnDemand, h.GpuModel, h.GpuCount, h.GpuMemoryGiB,
            h.Spec.VCpus, h.Spec.MemoryGiB, h.Spec.PricePerHour, h.Spec.PricePerHour,
            Available: states[i].Error is null && states[i].Claim is null)).ToList();
    }

    public async Task<CloudInstance> CreateAsync(LaunchRequest request, CancellationToken ct)
    {
        var host = hosts.FirstOrDefault(h => h.InstanceType == request.Offer.InstanceType && h.Region == request.Offer.Region)
            ?? throw new ProviderException(ProviderErrorReason.InvalidRequest,
                $"provider {Name}: no host has instance type {request.Offer.InstanceType} in region {request.Offer.Region}");
        using var session = await ConnectAsync(host, ct).ConfigureAwait(false);
        var claim = await RunAsRootAsync(session, host, SshScripts.Claim(settings, request.InstanceName), null, ct).ConfigureAwait(false);
        if (claim.ExitCode == SshScripts.ClaimedByOther)
        {
            throw new ProviderException(ProviderErrorReason.InsufficientCapacity, $"provider {Name}: host {host.Id} is claimed by {claim.Stdout.Trim()}");
        }
        Check(host, "claiming the host", claim);
        lastClaims[host.Id] = request.InstanceName;
        try
        {
            var script = Encoding.UTF8.GetBytes(request.Bootstrap.Script);
            var run = await session.RunAsync(
                SshScripts.AsRoot(host.Spec.User, SshScripts.DeliverAndRun(settings)), script, settings.BootstrapTimeout, ct).ConfigureAwait(false);
            if (run.ExitCode != 0)
            {
                // The host cannot serve now (no systemd, no network to the server, a broken package): hand it back and
                // let the caller try the next offer, which also keeps it out of the offers for a while.
                throw new ProviderException(ProviderErrorReason.InsufficientCapacity,
                    $"provider {Name}: bootstrap failed on host {host.Id} (exit {run.ExitCode}): {Tail(run.Stderr + run.Stdout)}");
            }
        }
        catch (Exception e) when (e is ProviderException or OperationCanceledException)
        {
            await ReleaseQuietlyAsync(session, host, request.InstanceName).ConfigureAwait(false);
            throw;
        }
        logger.LogInformation("provider {Provider}: host {Host} bootstrapped as {Instance}", Name, host.Id, request.InstanceName);
        return Instance(host, request.InstanceName, InstanceState.Running, "claimed");
    }

    public async Task<CloudInstance?> GetAsync(string instanceId, CancellationToken ct)
    {
        if (HostOf(instanceId) is not { } host)
        {
            return null;
        }
        string? claim;
        try
        {
            claim = await ReadClaimAsync(host, settings.ConnectAttempts, ct).ConfigureAwait(false);
        }
        catch (ProviderException e) when (e.Reason == ProviderErrorReason.Transient)
        {
            // Unreachable is not gone: the reconciler's liveness timeouts decide what a silent host means.
            return Instance(host, lastClaims.GetValueOrDefault(host.Id) ?? "", InstanceState.Unknown, "unreachable: " + e.Message);
        }
        var expected = lastClaims.GetValueOrDefault(host.Id);
        if (claim is null || (expected is not null ? claim != expected : InstanceNames.ClaimOf(context.ClusterId, claim) is null))
        {
            return null;
        }
        lastClaims[host.Id] = claim;
        return Instance(host, claim, InstanceState.Running, "claimed");
    }

    public async Task<IReadOnlyList<CloudInstance>> ListAsync(CancellationToken ct)
    {
        var found = await AcrossAsync(hosts, async h =>
        {
            try
            {
                var claim = await ReadClaimAsync(h, settings.ConnectAttempts, ct).ConfigureAwait(false);
                if (claim is null || !claim.StartsWith(InstanceNames.Prefix, StringComparison.Ordinal))
                {
                    return null;
                }
                if (InstanceNames.ClaimOf(context.ClusterId, claim) is not null)
                {
                    lastClaims[h.Id] = claim;
                }
                return Instance(h, claim, InstanceState.Running, "claimed");
            }
            catch (ProviderException e) when (e.Reason == ProviderErrorReason.Transient)
            {
                return lastClaims.TryGetValue(h.Id, out var name) ? Instance(h, name, InstanceState.Unknown, "unreachable: " + e.Message) : null;
            }
        }, ct).ConfigureAwait(false);
        return found.OfType<CloudInstance>().ToList();
    }

    public async Task DeleteAsync(string instanceId, CancellationToken ct)
    {
        if (HostOf(instanceId) is not { } host)
        {
            return;
        }
        using var session = await ConnectAsync(host, ct).ConfigureAwait(false);
        var claim = await ReadClaimAsync(session, host, ct).ConfigureAwait(false);
        if (claim is null || InstanceNames.ClaimOf(context.ClusterId, claim) is null)
        {
            // Already handed back, or claimed by someone else since: nothing of ours to remove.
            lastClaims.TryRemove(host.Id, out _);
            return;
        }
        Check(host, "removing the agent", await RunAsRootAsync(session, host, SshScripts.TeardownAndRelease(settings), null, ct).ConfigureAwait(false));
        lastClaims.TryRemove(host.Id, out _);
        logger.LogInformation("provider {Provider}: host {Host} handed back (was {Instance})", Name, host.Id, claim);
    }

    public async Task RebootAsync(string instanceId, CancellationToken ct)
    {
        var host = HostOf(instanceId) ?? throw new ProviderException(ProviderErrorReason.NotFound, $"provider {Name}: no host {instanceId}");
        using var session = await ConnectAsync(host, ct).ConfigureAwait(false);
        if (await ReadClaimAsync(session, host, ct).ConfigureAwait(false) is null)
        {
            throw new ProviderException(ProviderErrorReason.NotFound, $"provider {Name}: host {host.Id} is not claimed");
        }
        Check(host, "rebooting", await RunAsRootAsync(session, host, settings.RebootCommand, null, ct).ConfigureAwait(false));
    }

    // Hosts are asked in parallel (each call is a login), a bounded number at once.
    private static async Task<T[]> AcrossAsync<T>(IReadOnlyList<SshHost> targets, Func<SshHost, Task<T>> each, CancellationToken ct)
    {
        var results = new T[targets.Count];
        var options = new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct };
        await Parallel.ForEachAsync(Enumerable.Range(0, targets.Count), options, async (i, _) => results[i] = await each(targets[i]).ConfigureAwait(false))
            .ConfigureAwait(false);
        return results;
    }

    private SshHost? HostOf(string instanceId) => hosts.FirstOrDefault(h => h.Id == instanceId);

    private Task<SshSession> ConnectAsync(SshHost host, CancellationToken ct) =>
        SshSession.ConnectAsync(host, settings, settings.ConnectAttempts, context.Time, ct);

    private async Task<string?> ReadClaimAsync(SshHost host, int attempts, CancellationToken ct)
    {
        using var session = await SshSession.ConnectAsync(host, settings, attempts, context.Time, ct).ConfigureAwait(false);
        return await ReadClaimAsync(session, host, ct).ConfigureAwait(false);
    }

    private async Task<string?> ReadClaimAsync(SshSession session, SshHost host, CancellationToken ct)
    {
        var result = await RunAsRootAsync(session, host, SshScripts.ReadClaim(settings), null, ct).ConfigureAwait(false);
        if (result.ExitCode == SshScripts.NoClaim)
        {
            return null;
        }
        Check(host, "reading the claim", result);
        var claim = result.Stdout.Trim();
        return claim.Length == 0 ? null : claim;
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> RunAsRootAsync(SshSession session, SshHost host, string script, byte[]? stdin, CancellationToken ct) =>
        session.RunAsync(SshScripts.AsRoot(host.Spec.User, script), stdin, settings.ConnectTimeout * 6, ct);

    private async Task ReleaseQuietlyAsync(SshSession session, SshHost host, string instance)
    {
        try
        {
            using var cts = new CancellationTokenSource(settings.ConnectTimeout * 3);
            var result = await RunAsRootAsync(session, host, SshScripts.TeardownAndRelease(settings), null, cts.Token).ConfigureAwait(false);
            Check(host, "removing the agent", result);
            lastClaims.TryRemove(host.Id, out _);
        }
        catch (Exception e)
        {
            // The failure being reported matters more; the claim stays and Delete or the orphan sweep removes it.
            logger.LogWarning("provider {Provider}: host {Host}: could not release the claim of {Instance}: {Message}", Name, host.Id, instance, e.Message);
        }
    }

    private void Check(SshHost host, string what, (int ExitCode, string Stdout, string Stderr) result)
    {
        if (result.ExitCode != 0)
        {
            var reason = result.Stderr.Contains("sudo", StringComparison.Ordinal) ? ProviderErrorReason.Unauthorized : ProviderErrorReason.Transient;
            throw new ProviderException(reason, $"provider {Name}: host {host.Id}: {what} failed (exit {result.ExitCode}): {Tail(result.Stderr + result.Stdout)}");
        }
    }

    private static CloudInstance Instance(SshHost host, string name, InstanceState state, string raw) =>
        new(host.Id, name, state, raw, host.Spec.Address, null, host.Region, host.InstanceType, CapacityTypes.OnDemand);

    private string PrivateKeyOf(SshHostSpec spec)
    {
        if (spec.PrivateKey is null)
        {
            return context.Secret("privateKey");
        }
        return SecretResolver.TryResolve(spec.PrivateKey, out var value, out var error)
            ? value
            : throw new ProviderException(ProviderErrorReason.Unauthorized, $"provider {Name}: host {spec.Address}: privateKey ({spec.PrivateKey}): {error}");
    }

    private static string Tail(string text)
    {
        var trimmed = text.Trim();
        return trimmed.Length <= 400 ? trimmed : "..." + trimmed[^400..];
    }
}
