using System.Globalization;
using System.Text;
using System.Text.Json;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Atoll.Providers.Http;
using Microsoft.Extensions.Logging;
using static Atoll.Providers.Hetzner.HetznerJson;

namespace Atoll.Providers.Hetzner;

/// <summary>
/// Hetzner Cloud servers as CPU workers (Hetzner's GPU boxes are dedicated servers outside this API): one offer
/// per server type and location, servers created with the bootstrap's cloud-config as <c>user_data</c> and Atoll's
/// tags as labels. Credential: <c>apiKey</c> (a project API token). Settings: <c>eurToUsd</c> (default 1.10; the
/// API prices in EUR). Calls are paced to 1/s by default (the documented 3600 an hour).
/// </summary>
public sealed class HetznerCloudProvider : ICloudProvider
{
    public const string DefaultBaseUrl = "https://api.hetzner.cloud/v1";

    /// <summary>The largest <c>user_data</c> Hetzner accepts, in bytes.</summary>
    public const int MaxUserDataBytes = 32 * 1024;

    public const string DefaultImage = "ubuntu-24.04";

    private const decimal DefaultEurToUsd = 1.10m;
    private const int PageSize = 50;
    private const int MaxPages = 50;

    private readonly ProviderContext context;
    private readonly Uri baseUri;
    private readonly ProviderHttpClient http;
    private readonly decimal eurToUsd;
    private readonly ILogger logger;

    public HetznerCloudProvider(ProviderContext context)
    {
        this.context = context;
        baseUri = context.BaseUri(DefaultBaseUrl);
        eurToUsd = EurToUsd(context);
        logger = context.Logging.CreateLogger<HetznerCloudProvider>();
        var options = context.HttpOptions ?? new ProviderHttpOptions { RequestsPerSecond = 1 };
        http = new ProviderHttpClient(
            context.Http, context.Name, (status, body) => HetznerErrors.Classify(context.Name, status, body), options, context.Time, logger);
    }

    public string Name => context.Name;

    public string Type => ProviderTypes.Hetzner;

    public bool CanReboot => true;

    public async Task<IReadOnlyList<Offer>> GetOffersAsync(CancellationToken ct)
    {
        var types = await GetAllAsync("server_types", "server_types", null, ct).ConfigureAwait(false);
        var datacenters = await GetAllAsync("datacenters", "datacenters", null, ct).ConfigureAwait(false);
        return HetznerMapping.ToOffers(Name, types, datacenters, context.Spec.Regions ?? [], eurToUsd).ToList();
    }

    public async Task<CloudInstance> CreateAsync(LaunchRequest request, CancellationToken ct)
    {
        var userData = request.Bootstrap.CloudConfig;
        var size = Encoding.UTF8.GetByteCount(userData);
        if (size > MaxUserDataBytes)
        {
            throw new ProviderException(ProviderErrorReason.InvalidRequest,
                $"{Name}: the bootstrap's cloud-config is {size} bytes; Hetzner accepts at most {MaxUserDataBytes} bytes of user_data");
        }
        var body = new
        {
            name = request.InstanceName,
            server_type = request.Offer.InstanceType,
            image = context.Spec.Image ?? DefaultImage,
            location = request.Offer.Region,
            ssh_keys = context.Spec.SshKeys ?? [],
            user_data = userData,
            labels = HetznerLabels.From(request.Tags),
            start_after_create = true,
        };
        using var doc = await http.SendJsonAsync(() => Request(HttpMethod.Post, "servers", ProviderHttpClient.Json(body)), ct).ConfigureAwait(false);
        var server = Prop(doc.RootElement, "server")
            ?? throw new ProviderException(ProviderErrorReason.Transient, $"{Name}: Hetzner accepted {request.InstanceName} but answered no server");
        var created = HetznerMapping.ToInstance(server);
        logger.LogInformation("{Provider}: created server {Id} ({Name}) {Type} in {Region}", Name, created.Id, request.InstanceName, request.Offer.InstanceType, request.Offer.Region);
        return created with { Region = created.Region ?? request.Offer.Region, InstanceType = created.InstanceType ?? request.Offer.InstanceType };
    }

    public async Task<CloudInstance?> GetAsync(string instanceId, CancellationToken ct)
    {
        try
        {
            using var doc = await http.SendJsonAsync(() => Request(HttpMethod.Get, ServerPath(instanceId)), ct).ConfigureAwait(false);
            return Prop(doc.RootElement, "server") is { } server ? HetznerMapping.ToInstance(server, instanceId) : null;
        }
        catch (ProviderException e) when (e.Reason == ProviderErrorReason.NotFound)
        {
            return null;
        }
    }

    public async Task<IReadOnlyList<CloudInstance>> ListAsync(CancellationToken ct)
    {
        var servers = await GetAllAsync("servers", "servers", "label_selector=" + Uri.EscapeDataString(HetznerLabels.Selector), ct).ConfigureAwait(false);
        // The label finds Atoll's servers; the name check keeps out anything else that copied the label.
        return servers.Select(s => HetznerMapping.ToInstance(s))
            .Where(i => i.Name.StartsWith(InstanceNames.Prefix, StringComparison.Ordinal))
            .ToList();
    }

    public async Task DeleteAsync(string instanceId, CancellationToken ct)
    {
        try
        {
            await http.SendAsync(() => Request(HttpMethod.Delete, ServerPath(instanceId)), ct).ConfigureAwait(false);
        }
        catch (ProviderException e) when (e.Reason == ProviderErrorReason.NotFound)
        {
            // Already gone: that is what the caller wanted.
        }
    }

    public async Task RebootAsync(string instanceId, CancellationToken ct) =>
        await http.SendAsync(() => Request(HttpMethod.Post, ServerPath(instanceId) + "/actions/reboot"), ct).ConfigureAwait(false);

    /// <summary>Every item of a paged list, following <c>meta.pagination.next_page</c>.</summary>
    private async Task<List<JsonElement>> GetAllAsync(string path, string arrayName, string? query, CancellationToken ct)
    {
        var items = new List<JsonElement>();
        int? page = 1;
        for (var n = 0; page is { } current && n < MaxPages; n++)
        {
            var uri = string.Create(CultureInfo.InvariantCulture, $"{path}?page={current}&per_page={PageSize}{(query is null ? "" : "&" + query)}");
            using var doc = await http.SendJsonAsync(() => Request(HttpMethod.Get, uri), ct).ConfigureAwait(false);
            items.AddRange(Array(doc.RootElement, arrayName).Select(e => e.Clone()));
            page = Dec(doc.RootElement, "meta", "pagination", "next_page") is { } next && next > current ? (int)next : null;
        }
        return items;
    }

    private static decimal EurToUsd(ProviderContext context)
    {
        if (context.Spec.Settings?.TryGetValue("eurToUsd", out var text) != true)
        {
            return DefaultEurToUsd;
        }
        return decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var rate) && rate > 0
            ? rate
            : throw new ProviderException(ProviderErrorReason.InvalidRequest, $"provider {context.Name}: settings.eurToUsd is '{text}': use a positive number such as 1.08");
    }

    private static string ServerPath(string id) => "servers/" + Uri.EscapeDataString(id);

    private HttpRequestMessage Request(HttpMethod method, string path, HttpContent? content = null) =>
        ProviderHttpClient.Request(method, new Uri(baseUri, path), context.Secret("apiKey"), content);
}
