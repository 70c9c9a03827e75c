using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Atoll.Providers.Http;
using Atoll.Providers.Verda;
using Atoll.Testing.Providers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atoll.Providers.Tests.Verda;

/// <summary>A started <see cref="VerdaStandIn"/> (default catalog) and a <see cref="VerdaCloudProvider"/> talking to it over HTTP.</summary>
internal sealed class VerdaHarness : IAsyncDisposable
{
    public const string ClusterId = "c1";

    private readonly HttpClient http = new();

    private VerdaHarness(VerdaStandIn verda) => Verda = verda;

    public VerdaStandIn Verda { get; }

    public VerdaCloudProvider Provider { get; private set; } = null!;

    /// <summary>Retries without real waiting and no pacing.</summary>
    public static ProviderHttpOptions FastRetries => ProviderTestKit.FastRetries;

    public static BootstrapBundle Bootstrap { get; } = new(
        "#!/bin/bash\nset -euo pipefail\natoll agent --join\n", "#cloud-config\n", [], [], [], []);

    /// <param name="time">The clock of both the stand-in (token expiry, boot delay) and the adapter.</param>
    public static async Task<VerdaHarness> StartAsync(
        IReadOnlyList<string>? regions = null, string? clientSecret = null, string? image = null,
        TimeProvider? time = null, Action<VerdaStandIn>? setup = null)
    {
        var harness = new VerdaHarness(new VerdaStandIn(time).AddDefaultCatalog());
        setup?.Invoke(harness.Verda);
        await harness.Verda.StartAsync();
        var spec = new ProviderSpec(ProviderTypes.Verda, Regions: regions, BaseUrl: harness.Verda.BaseUrl.ToString(),
            SshKeys: ["key-id-1", "key-id-2"], Image: image);
        var secrets = new Dictionary<string, string>
        {
            ["clientId"] = harness.Verda.ClientId,
            ["clientSecret"] = clientSecret ?? harness.Verda.ClientSecret,
        };
        var context = new ProviderContext("verda-test", spec, secrets, ClusterId, harness.http, time ?? TimeProvider.System,
            NullLoggerFactory.Instance, FastRetries);
        harness.Provider = new VerdaCloudProvider(context);
        return harness;
    }

    public static LaunchRequest Launch(string claim, Offer offer) =>
        new(InstanceNames.For(ClusterId, claim), offer, Bootstrap, new Dictionary<string, string>());

    /// <summary>The current offer of <paramref name="type"/> in <paramref name="location"/> with that capacity type.</summary>
    public async Task<Offer> OfferAsync(string type, string location, string capacityType = "on-demand") =>
        (await Provider.GetOffersAsync(CancellationToken.None)).Single(o => o.InstanceType == type && o.Region == location && o.CapacityType == capacityType);

    /// <summary>Creates an on-demand (or spot) 1x H100 in FIN-01 through the adapter.</summary>
    public async Task<CloudInstance> CreateAsync(string claim, string capacityType = "on-demand") =>
        await Provider.CreateAsync(Launch(claim, await OfferAsync("1H100.80S.30V", "FIN-01", capacityType)), CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await Verda.DisposeAsync();
        http.Dispose();
    }
}
