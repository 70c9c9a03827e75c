using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Atoll.Providers.Http;
using Atoll.Providers.Lambda;
using Atoll.Testing.Providers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atoll.Providers.Tests.Lambda;

/// <summary>A started <see cref="LambdaStandIn"/> (default catalog) and a <see cref="LambdaCloudProvider"/> talking to it over HTTP.</summary>
internal sealed class LambdaHarness : IAsyncDisposable
{
    public const string ClusterId = "c1";

    private readonly HttpClient http = new();

    private LambdaHarness(LambdaStandIn lambda) => Lambda = lambda;

    public LambdaStandIn Lambda { get; }

    public LambdaCloudProvider Provider { get; private set; } = null!;

    /// <summary>Retries without real waiting and no pacing.</summary>
    public static ProviderHttpOptions FastRetries => ProviderTestKit.FastRetries;

    public static BootstrapBundle Bootstrap { get; } = new(
        "#!/bin/bash\necho join\n", "#cloud-config\nruncmd:\n  - [atoll, agent, --join]\n", [], [], [], []);

    public static async Task<LambdaHarness> StartAsync(
        IReadOnlyList<string>? regions = null, IReadOnlyList<string>? sshKeys = null, string? apiKey = null,
        ProviderHttpOptions? options = null, TimeProvider? time = null, bool useDefaultOptions = false)
    {
        var harness = new LambdaHarness(new LambdaStandIn().AddDefaultCatalog());
        await harness.Lambda.StartAsync();
        var spec = new ProviderSpec(ProviderTypes.Lambda, Regions: regions, BaseUrl: harness.Lambda.BaseUrl.ToString(), SshKeys: sshKeys ?? ["atoll-key"]);
        var secrets = new Dictionary<string, string>();
        if (apiKey != "")
        {
            secrets["apiKey"] = apiKey ?? harness.Lambda.ApiKey;
        }
        var context = new ProviderContext("lambda-test", spec, secrets, ClusterId, harness.http, time ?? TimeProvider.System,
            NullLoggerFactory.Instance, useDefaultOptions ? null : options ?? FastRetries);
        harness.Provider = new LambdaCloudProvider(context);
        return harness;
    }

    public static LaunchRequest Launch(string claim, Offer offer) =>
        new(InstanceNames.For(ClusterId, claim), offer, Bootstrap, new Dictionary<string, string>());

    /// <summary>The current offer of <paramref name="type"/> in <paramref name="region"/>.</summary>
    public async Task<Offer> OfferAsync(string type, string region) =>
        (await Provider.GetOffersAsync(CancellationToken.None)).Single(o => o.InstanceType == type && o.Region == region);

    public async ValueTask DisposeAsync()
    {
        await Lambda.DisposeAsync();
        http.Dispose();
    }
}
