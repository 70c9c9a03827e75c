using System.Text.Json;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Atoll.Providers.Http;
using Microsoft.Extensions.Logging;
using static Atoll.Providers.Http.LenientJson;

namespace Atoll.Providers.VoltagePark;

/// <summary>
/// Voltage Park instant VMs: one on-demand offer per location and preset (capacity = <c>available_vms</c>), VMs
/// created with cloud-init limited to <c>packages</c>, <c>write_files</c> and <c>runcmd</c>. Credential:
/// <c>apiKey</c> (Bearer). No reboot: see <see cref="CanReboot"/>.
/// </summary>
public sealed class VoltageParkCloudProvider : ICloudProvider
{
    public const string DefaultBaseUrl = "https://cloud-api.voltagepark.com/api/v1";

    private const int PageSize = 100;
    private const int MaxPages = 50;

    private readonly ProviderContext context;
    private readonly Uri baseUri;
    private readonly ProviderHttpClient http;
    private readonly ILogger logger;

    public VoltageParkCloudProvider(ProviderContext context)
    {
        this.context = context;
        baseUri = context.BaseUri(DefaultBaseUrl);
        logger = context.Logging.CreateLogger<VoltageParkCloudProvider>();
        // The API documents no rate limit; two calls a second keeps a reconcile loop polite.
        var options = context.HttpOptions ?? new ProviderHttpOptions { RequestsPerSecond = 2 };
        http = new ProviderHttpClient(
            context.Http, context.Name, (status, body) => VoltageParkErrors.Classify(context.Name, status, body), options, context.Time, logger);
    }

    public string Name => context.Name;

    public string Type => ProviderTypes.VoltagePark;

    /// <summary>
    /// False: the API has only power states (<c>PUT power-status</c> started/stopped), no reboot. A stop and start
    /// takes minutes and may lose the host (<c>StoppedDisassociated</c>), so replacing the node is the better repair.
    /// </summary>
    public bool CanReboot => false;

    public async Task<IReadOnlyList<Offer>> GetOffersAsync(CancellationToken ct)
    {
        var locations = await GetAllAsync("virtual-machines/instant/locations", ct).ConfigureAwait(false);
        var regions = context.Spec.Regions ?? [];
        var offers = new List<Offer>();
        foreach (var location in locations)
        {
            if (Str(location, "id") is not { } region || !InRegions(location, region, regions)
                || Prop(location, "available_presets") is not { ValueKind: JsonValueKind.Array } presets)
            {
                continue;
            }
            foreach (var preset in presets.EnumerateArray())
            {
                if (VoltageParkMapping.ToOffer(Name, region, preset) is { } offer)
                {
                    offers.Add(offer);
                }
                else
                {
                    logger.LogWarning("{Provider}: preset without id or compute_rate_hourly in location {Location} skipped", Name, region);
                }
            }
        }
        return offers;
    }

    public async Task<CloudInstance> CreateAsync(LaunchRequest request, CancellationToken ct)
    {
        var bootstrap = request.Bootstrap;
        var keys = context.Spec.SshKeys ?? [];
        // Voltage Park's cloud_init accepts only these three keys; anything else in the bundle stays out.
        var body = new
        {
            config_id = request.Offer.InstanceType,
            name = request.InstanceName,
            organization_ssh_keys = keys.Count > 0 ? (object)new { mode = "selective", ssh_key_ids = keys } : new { mode = "none" },
            ssh_keys = Array.Empty<string>(),
            cloud_init = new
            {
                packages = bootstrap.Packages,
                write_files = bootstrap.WriteFiles.Select(f => new { path = f.Path, content = f.Content, permissions = f.Permissions }).ToArray(),
                runcmd = bootstrap.RunCommands,
            },
            tags = request.Tags.Select(t => $"{t.Key}={t.Value}").ToArray(),
        };
        using var doc = await http.SendJsonAsync(
            () => Request(HttpMethod.Post, "virtual-machines/instant", ProviderHttpClient.Json(body)), ct).ConfigureAwait(false);
        var id = Str(doc.RootElement, "vm_id") ?? Str(doc.RootElement, "id")
            ?? throw new ProviderException(ProviderErrorReason.Transient, $"{Name}: Voltage Park accepted {request.InstanceName} but answered no vm_id");
        logger.LogInformation("{Provider}: created VM {Id} ({Name}) from preset {Preset} in {Region}", Name, id, request.InstanceName, request.Offer.InstanceType, request.Offer.Region);
        return new CloudInstance(id, request.InstanceName, InstanceState.Pending, "Created", null, null,
            request.Offer.Region, request.Offer.InstanceType, request.Offer.CapacityType);
    }

    public async Task<CloudInstance?> GetAsync(string instanceId, CancellationToken ct)
    {
        try
        {
            using var doc = await http.SendJsonAsync(() => Request(HttpMethod.Get, VmPath(instanceId)), ct).ConfigureAwait(false);
            return VoltageParkMapping.ToInstance(doc.RootElement, instanceId);
        }
        catch (ProviderException e) when (e.Reason == ProviderErrorReason.NotFound)
        {
            return null;
        }
    }

    public async Task<IReadOnlyList<CloudInstance>> ListAsync(CancellationToken ct)
    {
        var vms = await GetAllAsync("virtual-machines/", ct).ConfigureAwait(false);
        return vms.Select(vm => VoltageParkMapping.ToInstance(vm))
            .Where(i => i.Name.StartsWith(InstanceNames.Prefix, StringComparison.Ordinal))
            .ToList();
    }

    public async Task DeleteAsync(string instanceId, CancellationToken ct)
    {
        try
        {
            await http.SendAsync(() => Request(HttpMethod.Delete, VmPath(instanceId)), ct).ConfigureAwait(false);
        }
        catch (ProviderException e) when (e.Reason == ProviderErrorReason.NotFound)
        {
            // Already gone: that is what the caller wanted.
        }
    }

    public Task RebootAsync(string instanceId, CancellationToken ct) =>
        throw new NotSupportedException($"{Name}: Voltage Park VMs cannot be rebooted through the API; replace the node instead");

    /// <summary>
    /// Every item of a paged list. Follows <c>next</c> when the page names one (only on the API's own host, so the
    /// bearer token never leaves it), else offset paging while <c>has_next</c> is true.
    /// </summary>
    private async Task<List<JsonElement>> GetAllAsync(string path, CancellationToken ct)
    {
        var items = new List<JsonElement>();
        var offset = 0;
        Uri? next = new(baseUri, $"{path}?offset=0&limit={PageSize}");
        for (var page = 0; next is not null && page < MaxPages; page++)
        {
            var uri = next;
            using var doc = await http.SendJsonAsync(() => ProviderHttpClient.Request(HttpMethod.Get, uri, context.Secret("apiKey")), ct).ConfigureAwait(false);
            var root = doc.RootElement;
            var results = root.ValueKind == JsonValueKind.Array ? root : Prop(root, "results") ?? default;
            var count = 0;
            if (results.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in results.EnumerateArray())
                {
                    items.Add(item.Clone());
                    count++;
                }
            }
            offset += count;
            next = null;
            if (count > 0 && Str(root, "next") is { Length: > 0 } link && Uri.TryCreate(baseUri, link, out var linked)
                && linked.Authority == baseUri.Authority)
            {
                next = linked;
            }
            else if (count > 0 && Bool(root, "has_next"))
            {
                next = new Uri(baseUri, $"{path}?offset={offset}&limit={PageSize}");
            }
        }
        return items;
    }

    private static bool InRegions(JsonElement location, string id, IReadOnlyList<string> regions) =>
        regions.Count == 0 || regions.Any(r => string.Equals(r, id, StringComparison.OrdinalIgnoreCase)
            || string.Equals(r, Str(location, "name"), StringComparison.OrdinalIgnoreCase));

    private static string VmPath(string id) => "virtual-machines/" + Uri.EscapeDataString(id);

    private HttpRequestMessage Request(HttpMethod method, string path, HttpContent? content = null) =>
        ProviderHttpClient.Request(method, new Uri(baseUri, path), context.Secret("apiKey"), content);
}
