using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Atoll.Providers.Http;
using Microsoft.Extensions.Logging;
using static Atoll.Providers.Http.LenientJson;
using static Atoll.Providers.TensorDock.TensorDockJson;

namespace Atoll.Providers.TensorDock;

/// <summary>
/// TensorDock v2 virtual machines (on-demand only): offers per location, GPU model and power-of-two GPU count,
/// VMs built from GPUs, vCPUs, RAM and disk (see <see cref="TensorDockShape"/> for the sizing settings) with a
/// dedicated IP and cloud-init. Credential: <c>apiKey</c> (Bearer). SSH key: <c>spec.sshKeys[0]</c> or
/// <c>settings.sshKey</c> (a public key; the API requires one). Calls are paced to 1.5/s by default, under the
/// documented 100 per minute.
/// </summary>
public sealed class TensorDockCloudProvider : ICloudProvider
{
    public const string DefaultBaseUrl = "https://dashboard.tensordock.com/api/v2";

    /// <summary>Calls per second by default: 90 a minute, under the documented 429 threshold of 100.</summary>
    public const double DefaultRequestsPerSecond = 1.5;

    private const string Image = "ubuntu2404";

    private readonly ProviderContext context;
    private readonly Uri baseUri;
    private readonly ProviderHttpClient http;
    private readonly TensorDockShape shape;
    private readonly ILogger logger;

    public TensorDockCloudProvider(ProviderContext context)
    {
        this.context = context;
        baseUri = context.BaseUri(DefaultBaseUrl);
        shape = TensorDockShape.From(context.Name, context.Spec);
        logger = context.Logging.CreateLogger<TensorDockCloudProvider>();
        var options = context.HttpOptions ?? new ProviderHttpOptions { RequestsPerSecond = DefaultRequestsPerSecond };
        http = new ProviderHttpClient(
            context.Http, context.Name, (status, body) => TensorDockErrors.Classify(context.Name, status, body), options, context.Time, logger);
    }

    public string Name => context.Name;

    public string Type => ProviderTypes.TensorDock;

    /// <summary>False: v2 documents start and stop but no reboot.</summary>
    public bool CanReboot => false;

    public async Task<IReadOnlyList<Offer>> GetOffersAsync(CancellationToken ct)
    {
        using var doc = await http.SendJsonAsync(() => Request(HttpMethod.Get, "locations"), ct).ConfigureAwait(false);
        var root = doc.RootElement;
        // Documented as {"data":{"locations":[...]}}; a bare data[] or locations[] is read too.
        var locations = Array(root, "data", "locations").Concat(Array(root, "data")).Concat(Array(root, "locations"));
        var regions = context.Spec.Regions ?? [];
        return locations.Where(l => TensorDockMapping.InRegions(l, regions))
            .SelectMany(l => TensorDockMapping.ToOffers(Name, l, shape))
            .ToList();
    }

    public async Task<CloudInstance> CreateAsync(LaunchRequest request, CancellationToken ct)
    {
        var offer = request.Offer;
        var (gpu, count) = TensorDockShape.Parse(offer.InstanceType)
            ?? throw new ProviderException(ProviderErrorReason.InvalidRequest, $"{Name}: '{offer.InstanceType}' is not a TensorDock instance type of Atoll's (<count>x<gpu>)");
        var sshKey = context.Spec.SshKeys?.FirstOrDefault(k => !string.IsNullOrWhiteSpace(k))
            ?? (context.Spec.Settings?.TryGetValue("sshKey", out var key) == true && !string.IsNullOrWhiteSpace(key) ? key : null)
            ?? throw new ProviderException(ProviderErrorReason.InvalidRequest, $"{Name}: TensorDock requires an SSH public key: set spec.sshKeys or settings.sshKey");
        var bootstrap = request.Bootstrap;
        var body = new
        {
            data = new
            {
                type = "virtualmachine",
                attributes = new
                {
                    name = request.InstanceName,
                    type = "virtualmachine",
                    image = Image,
                    resources = new
                    {
                        vcpu_count = offer.VCpus,
                        ram_gb = offer.MemoryGiB,
                        storage_gb = Math.Max(TensorDockShape.MinStorageGb, shape.StorageGb),
                        gpus = new Dictionary<string, object> { [gpu] = new { count } },
                    },
                    location_id = offer.Region,
                    useDedicatedIp = true,
                    ssh_key = sshKey,
                    cloud_init = new
                    {
                        runcmd = bootstrap.RunCommands,
                        write_files = bootstrap.WriteFiles.Select(f => new { path = f.Path, content = f.Content, permissions = f.Permissions }).ToArray(),
                        packages = bootstrap.Packages,
                    },
                },
            },
        };
        using var doc = await http.SendJsonAsync(() => Request(HttpMethod.Post, "instances", ProviderHttpClient.Json(body)), ct).ConfigureAwait(false);
        var data = Prop(doc.RootElement, "data") ?? doc.RootElement;
        var id = Str(data, "id")
            ?? throw new ProviderException(ProviderErrorReason.Transient, $"{Name}: TensorDock accepted {request.InstanceName} but answered no id");
        var created = TensorDockMapping.ToInstance(data, id);
        logger.LogInformation("{Provider}: created VM {Id} ({Name}) {Type} in {Region}", Name, id, request.InstanceName, offer.InstanceType, offer.Region);
        return created with
        {
            Name = request.InstanceName,
            // Right after the create, "running" means accepted, not booted: Atoll waits for the agent either way.
            State = created.State is InstanceState.Running or InstanceState.Unknown ? InstanceState.Pending : created.State,
            Region = offer.Region,
            InstanceType = offer.InstanceType,
        };
    }

    public async Task<CloudInstance?> GetAsync(string instanceId, CancellationToken ct)
    {
        try
        {
            using var doc = await http.SendJsonAsync(() => Request(HttpMethod.Get, InstancePath(instanceId)), ct).ConfigureAwait(false);
            return TensorDockMapping.ToInstance(Prop(doc.RootElement, "data") ?? doc.RootElement, instanceId);
        }
        catch (ProviderException e) when (e.Reason == ProviderErrorReason.NotFound)
        {
            return null;
        }
    }

    public async Task<IReadOnlyList<CloudInstance>> ListAsync(CancellationToken ct)
    {
        using var doc = await http.SendJsonAsync(() => Request(HttpMethod.Get, "instances"), ct).ConfigureAwait(false);
        var root = doc.RootElement;
        // Observed as a bare data[]; {"data":{"instances":[...]}} is read too.
        var items = Array(root, "data").Concat(Array(root, "data", "instances")).Concat(Array(root, "instances"));
        return items.Select(i => TensorDockMapping.ToInstance(i))
            .Where(i => i.Name.StartsWith(InstanceNames.Prefix, StringComparison.Ordinal))
            .ToList();
    }

    public async Task DeleteAsync(string instanceId, CancellationToken ct)
    {
        try
        {
            await http.SendAsync(() => Request(HttpMethod.Delete, InstancePath(instanceId)), ct).ConfigureAwait(false);
        }
        catch (ProviderException e) when (e.Reason == ProviderErrorReason.NotFound)
        {
            // Already gone: that is what the caller wanted.
        }
    }

    public Task RebootAsync(string instanceId, CancellationToken ct) =>
        throw new NotSupportedException($"{Name}: TensorDock v2 has no reboot; replace the node instead");

    private static string InstancePath(string id) => "instances/" + Uri.EscapeDataString(id);

    private HttpRequestMessage Request(HttpMethod method, string path, HttpContent? content = null) =>
        ProviderHttpClient.Request(method, new Uri(baseUri, path), context.Secret("apiKey"), content);
}
