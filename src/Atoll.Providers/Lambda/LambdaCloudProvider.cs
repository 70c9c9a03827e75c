using System.Text.Json;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Atoll.Providers.Http;
using Microsoft.Extensions.Logging;

namespace Atoll.Providers.Lambda;

/// <summary>
/// Lambda Cloud (<c>type: lambda</c>): on-demand GPU VMs, bootstrapped by cloud-init user data. Credentials:
/// <c>apiKey</c>. <c>spec.sshKeys</c> must name one SSH key registered at Lambda (Lambda requires exactly one).
/// </summary>
public sealed class LambdaCloudProvider : ICloudProvider
{
    /// <summary>The API base when the spec sets none.</summary>
    public const string DefaultBaseUrl = "https://cloud.lambda.ai/api/v1";

    private readonly ProviderContext context;
    private readonly Uri baseUri;
    private readonly ProviderHttpClient http;
    private readonly ProviderHttpClient launches;
    private readonly ILogger logger;

    public LambdaCloudProvider(ProviderContext context)
    {
        this.context = context;
        baseUri = context.BaseUri(DefaultBaseUrl);
        logger = context.Logging.CreateLogger<LambdaCloudProvider>();
        var label = $"lambda/{context.Name}";
        // Lambda documents about 1 call/s, and about 1 launch per 10 s: launches get their own, slower pace.
        var options = context.HttpOptions ?? new ProviderHttpOptions { RequestsPerSecond = 1 };
        var launchOptions = options with { RequestsPerSecond = options.RequestsPerSecond > 0 ? Math.Min(options.RequestsPerSecond, 0.1) : 0 };
        http = new ProviderHttpClient(context.Http, label, (status, body) => LambdaErrors.Classify(label, status, body), options, context.Time, logger);
        launches = new ProviderHttpClient(context.Http, label, (status, body) => LambdaErrors.Classify(label, status, body), launchOptions, context.Time, logger);
    }

    public string Name => context.Name;

    public string Type => ProviderTypes.Lambda;

    public bool CanReboot => true;

    public async Task<IReadOnlyList<Offer>> GetOffersAsync(CancellationToken ct)
    {
        using var doc = await http.SendJsonAsync(() => Request(HttpMethod.Get, "instance-types"), ct).ConfigureAwait(false);
        return LambdaJson.Offers(doc.RootElement, Name, context.Spec.Regions);
    }

    public async Task<CloudInstance> CreateAsync(LaunchRequest request, CancellationToken ct)
    {
        var keys = context.Spec.SshKeys ?? [];
        if (keys.Count == 0)
        {
            throw new ProviderException(ProviderErrorReason.InvalidRequest,
                $"provider {Name}: Lambda needs the name of one SSH key registered in the Lambda account in spec.sshKeys (it accepts exactly one)");
        }
        if (keys.Count > 1)
        {
            logger.LogWarning("{Provider}: Lambda accepts one SSH key per instance; using {Key} of spec.sshKeys", Name, keys[0]);
        }
        var body = new Dictionary<string, object?>
        {
            ["region_name"] = request.Offer.Region,
            ["instance_type_name"] = request.Offer.InstanceType,
            ["ssh_key_names"] = new[] { keys[0] },
            ["file_system_names"] = Array.Empty<string>(),
            ["quantity"] = 1,
            ["name"] = request.InstanceName,
            ["user_data"] = request.Bootstrap.CloudConfig,
        };
        using var doc = await launches.SendJsonAsync(
            () => Request(HttpMethod.Post, "instance-operations/launch", ProviderHttpClient.Json(body)), ct).ConfigureAwait(false);
        var id = doc.RootElement.TryGetProperty("data", out var data) && data.TryGetProperty("instance_ids", out var ids)
            && ids.ValueKind == JsonValueKind.Array && ids.GetArrayLength() > 0
                ? ids[0].GetString()
                : null;
        if (string.IsNullOrEmpty(id))
        {
            throw new ProviderException(ProviderErrorReason.Transient,
                $"provider {Name}: Lambda accepted the launch of {request.InstanceName} but answered no instance id");
        }
        return new CloudInstance(id, request.InstanceName, InstanceState.Pending, "booting", null, null,
            request.Offer.Region, request.Offer.InstanceType, LambdaJson.OnDemand);
    }

    public async Task<CloudInstance?> GetAsync(string instanceId, CancellationToken ct)
    {
        try
        {
            using var doc = await http.SendJsonAsync(() => Request(HttpMethod.Get, "instances/" + Uri.EscapeDataString(instanceId)), ct).ConfigureAwait(false);
            return doc.RootElement.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
                ? LambdaJson.Instance(data)
                : null;
        }
        catch (ProviderException e) when (e.Reason == ProviderErrorReason.NotFound)
        {
            return null;
        }
    }

    public async Task<IReadOnlyList<CloudInstance>> ListAsync(CancellationToken ct)
    {
        using var doc = await http.SendJsonAsync(() => Request(HttpMethod.Get, "instances"), ct).ConfigureAwait(false);
        if (!doc.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            return [];
        }
        return data.EnumerateArray()
            .Select(LambdaJson.Instance)
            .Where(i => i.Name.StartsWith(InstanceNames.Prefix, StringComparison.Ordinal))
            .ToList();
    }

    public async Task DeleteAsync(string instanceId, CancellationToken ct)
    {
        try
        {
            await http.SendAsync(() => Request(HttpMethod.Post, "instance-operations/terminate", IdsBody(instanceId)), ct).ConfigureAwait(false);
        }
        catch (ProviderException e) when (e.Reason == ProviderErrorReason.NotFound)
        {
            // Already gone: the goal of a delete is reached.
        }
        catch (ProviderException e) when (e.Reason == ProviderErrorReason.InvalidRequest)
        {
            // Lambda may refuse ids it no longer knows as invalid parameters rather than 404: gone is still success.
            if (await GetAsync(instanceId, ct).ConfigureAwait(false) is not null)
            {
                throw;
            }
        }
    }

    public async Task RebootAsync(string instanceId, CancellationToken ct) =>
        await http.SendAsync(() => Request(HttpMethod.Post, "instance-operations/restart", IdsBody(instanceId)), ct).ConfigureAwait(false);

    private static HttpContent IdsBody(string instanceId) =>
        ProviderHttpClient.Json(new Dictionary<string, string[]> { ["instance_ids"] = [instanceId] });

    private HttpRequestMessage Request(HttpMethod method, string path, HttpContent? content = null) =>
        ProviderHttpClient.Request(method, new Uri(baseUri, path), context.Secret("apiKey"), content);
}
