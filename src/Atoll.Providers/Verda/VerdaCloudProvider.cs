using System.Globalization;
using System.Text.Json;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Atoll.Providers.Http;
using Microsoft.Extensions.Logging;

namespace Atoll.Providers.Verda;

/// <summary>
/// Verda, formerly DataCrunch (<c>type: verda</c>): spot and on-demand GPU VMs, bootstrapped by a startup script.
/// Credentials: <c>clientId</c> and <c>clientSecret</c> (OAuth2 client credentials). <c>spec.sshKeys</c> are SSH key
/// ids; <c>spec.image</c> defaults to <see cref="DefaultImage"/>; <c>settings.osVolumeGiB</c> sizes the OS disk (100).
/// </summary>
public sealed class VerdaCloudProvider : ICloudProvider
{
    /// <summary>The API base when the spec sets none.</summary>
    public const string DefaultBaseUrl = "https://api.verda.com/v1";

    /// <summary>The OS image when the spec names none: Ubuntu with CUDA and Docker.</summary>
    public const string DefaultImage = "ubuntu-24.04-cuda-12.8-open-docker";

    private readonly ProviderContext context;
    private readonly Uri baseUri;
    private readonly ProviderHttpClient http;
    private readonly VerdaTokenSource tokens;
    private readonly ILogger logger;

    public VerdaCloudProvider(ProviderContext context)
    {
        this.context = context;
        baseUri = context.BaseUri(DefaultBaseUrl);
        logger = context.Logging.CreateLogger<VerdaCloudProvider>();
        var label = $"verda/{context.Name}";
        // Verda documents no rate limit: stay polite by default.
        var options = context.HttpOptions ?? new ProviderHttpOptions { RequestsPerSecond = 2 };
        http = new ProviderHttpClient(context.Http, label, (status, body) => VerdaErrors.Classify(label, status, body), options, context.Time, logger);
        tokens = new VerdaTokenSource(context, http, baseUri);
    }

    public string Name => context.Name;

    public string Type => ProviderTypes.Verda;

    /// <summary>False: Verda's instance actions are start, shutdown, delete, hibernate and restore; none reboots in one step.</summary>
    public bool CanReboot => false;

    public async Task<IReadOnlyList<Offer>> GetOffersAsync(CancellationToken ct)
    {
        using var types = await GetJsonAsync("instance-types?currency=usd", ct).ConfigureAwait(false);
        using var spot = await GetJsonAsync("instance-availability?isSpot=true", ct).ConfigureAwait(false);
        using var onDemand = await GetJsonAsync("instance-availability?isSpot=false", ct).ConfigureAwait(false);
        return VerdaJson.Offers(types.RootElement, spot.RootElement, onDemand.RootElement, Name, context.Spec.Regions);
    }

    public async Task<CloudInstance> CreateAsync(LaunchRequest request, CancellationToken ct)
    {
        var script = new Dictionary<string, string> { ["name"] = request.InstanceName, ["script"] = request.Bootstrap.Script };
        var scriptId = VerdaJson.Id(await SendAsync(HttpMethod.Post, "scripts", script, ct).ConfigureAwait(false))
            ?? throw new ProviderException(ProviderErrorReason.Transient, $"provider {Name}: Verda stored the startup script but answered no id");
        var isSpot = request.Offer.CapacityType == VerdaJson.Spot;
        var osVolume = new Dictionary<string, object> { ["name"] = request.InstanceName + "-os", ["size"] = OsVolumeGiB() };
        if (isSpot)
        {
            // A discontinued spot instance would otherwise leave its disk behind (and billed).
            osVolume["on_spot_discontinue"] = "delete_permanently";
        }
        var body = new Dictionary<string, object?>
        {
            ["instance_type"] = request.Offer.InstanceType,
            ["image"] = context.Spec.Image ?? DefaultImage,
            ["ssh_key_ids"] = context.Spec.SshKeys ?? [],
            ["startup_script_id"] = scriptId,
            ["hostname"] = request.InstanceName,
            ["description"] = request.InstanceName,
            ["location_code"] = request.Offer.Region,
            ["is_spot"] = isSpot,
            ["os_volume"] = osVolume,
        };
        string? id;
        try
        {
            id = VerdaJson.Id(await SendAsync(HttpMethod.Post, "instances", body, ct).ConfigureAwait(false));
        }
        catch (ProviderException e)
        {
            await DeleteScriptAsync(scriptId, ct).ConfigureAwait(false);
            // Verda has no capacity error code: when the availability call listed this offer, a refused create almost
            // always means the capacity went between the listing and the create. Calling it InsufficientCapacity
            // makes the caller try the next offer (a truly bad request then fails on every offer, with this message).
            if (e.Reason == ProviderErrorReason.InvalidRequest && request.Offer.Available)
            {
                throw new ProviderException(ProviderErrorReason.InsufficientCapacity,
                    $"{e.Message}; treated as no capacity for {request.Offer.InstanceType} ({request.Offer.CapacityType}) in {request.Offer.Region}, which Verda listed as available", e);
            }
            throw;
        }
        if (string.IsNullOrEmpty(id))
        {
            throw new ProviderException(ProviderErrorReason.Transient, $"provider {Name}: Verda accepted {request.InstanceName} but answered no instance id");
        }
        return new CloudInstance(id, request.InstanceName, InstanceState.Pending, "ordered", null, null,
            request.Offer.Region, request.Offer.InstanceType, isSpot ? VerdaJson.Spot : VerdaJson.OnDemand);
    }

    public async Task<CloudInstance?> GetAsync(string instanceId, CancellationToken ct)
    {
        try
        {
            using var doc = await GetJsonAsync("instances/" + Uri.EscapeDataString(instanceId), ct).ConfigureAwait(false);
            return doc.RootElement.ValueKind == JsonValueKind.Object ? VerdaJson.Instance(doc.RootElement) : null;
        }
        catch (ProviderException e) when (e.Reason == ProviderErrorReason.NotFound)
        {
            // A discontinued spot instance simply vanishes: null is how callers learn it is gone.
            return null;
        }
    }

    public async Task<IReadOnlyList<CloudInstance>> ListAsync(CancellationToken ct)
    {
        using var doc = await GetJsonAsync("instances", ct).ConfigureAwait(false);
        if (doc.RootElement.ValueKind != JsonValueKind.Array)
        {
            return [];
        }
        return doc.RootElement.EnumerateArray()
            .Select(VerdaJson.Instance)
            .Where(i => i.Name.StartsWith(InstanceNames.Prefix, StringComparison.Ordinal))
            .ToList();
    }

    public async Task DeleteAsync(string instanceId, CancellationToken ct)
    {
        try
        {
            var body = new Dictionary<string, object> { ["id"] = new[] { instanceId }, ["action"] = "delete" };
            await SendAsync(HttpMethod.Put, "instances", body, ct).ConfigureAwait(false);
        }
        catch (ProviderException e) when (e.Reason == ProviderErrorReason.NotFound)
        {
            // Already gone: the goal of a delete is reached.
        }
    }

    public Task RebootAsync(string instanceId, CancellationToken ct) =>
        throw new NotSupportedException($"provider {Name}: Verda has no reboot action");

    private int OsVolumeGiB() =>
        context.Spec.Settings is { } settings && settings.TryGetValue("osVolumeGiB", out var text)
            && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var size) && size > 0
                ? size
                : 100;

    private async Task DeleteScriptAsync(string scriptId, CancellationToken ct)
    {
        try
        {
            await SendAsync(HttpMethod.Delete, "scripts/" + Uri.EscapeDataString(scriptId), null, ct).ConfigureAwait(false);
        }
        catch (ProviderException e)
        {
            // Cleanup only: the create's own error is what the caller must see.
            logger.LogWarning("{Provider}: could not delete startup script {Script} of a failed create: {Message}", Name, scriptId, e.Message);
        }
    }

    private async Task<JsonDocument> GetJsonAsync(string path, CancellationToken ct)
    {
        var body = await SendAsync(HttpMethod.Get, path, null, ct).ConfigureAwait(false);
        try
        {
            return JsonDocument.Parse(string.IsNullOrWhiteSpace(body) ? "null" : body);
        }
        catch (JsonException e)
        {
            throw new ProviderException(ProviderErrorReason.Transient, $"verda/{Name}: GET {path} answered something that is not JSON: {e.Message}", e);
        }
    }

    /// <summary>One authorized call; a 401 (token revoked or expired early) gets one new token and one more try.</summary>
    private async Task<string> SendAsync(HttpMethod method, string path, object? json, CancellationToken ct)
    {
        var uri = new Uri(baseUri, path);
        var token = await tokens.GetAsync(null, ct).ConfigureAwait(false);
        HttpRequestMessage Build() => ProviderHttpClient.Request(method, uri, token, json is null ? null : ProviderHttpClient.Json(json));
        try
        {
            return await http.SendAsync(Build, ct).ConfigureAwait(false);
        }
        catch (ProviderException e) when (e.Reason == ProviderErrorReason.Unauthorized)
        {
            token = await tokens.GetAsync(token, ct).ConfigureAwait(false);
            return await http.SendAsync(Build, ct).ConfigureAwait(false);
        }
    }
}
