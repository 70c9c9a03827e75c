using System.Net.Http.Json;
using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Atoll.Providers;
using Atoll.Server.Fleet;
using Atoll.Storage.State;
using Microsoft.Extensions.DependencyInjection;

namespace Atoll.Server.Tests.Fleet;

/// <summary>A server on fake time whose providers are <see cref="FakeCloudProvider"/>s, reconciled one pass at a time by the test.</summary>
internal sealed class FleetHost : IAsyncDisposable
{
    private FleetHost(ServerHost host, Dictionary<string, FakeCloudProvider> providers)
    {
        Host = host;
        Providers = providers;
    }

    public ServerHost Host { get; }

    public Dictionary<string, FakeCloudProvider> Providers { get; }

    public FleetReconciler Reconciler => Host.Services.GetRequiredService<FleetReconciler>();

    public IStateStore Store => Host.Services.GetRequiredService<IStateStore>();

    public static async Task<FleetHost> StartAsync(params string[] providerNames)
    {
        var providers = providerNames.ToDictionary(n => n, n => new FakeCloudProvider(n));
        var host = await ServerHost.StartAsync("sqlite",
            o => o.Fleet.Enabled = false,
            b => b.Services.AddSingleton<Func<ProviderContext, ICloudProvider>>(context => providers[context.Name]));
        var fleet = new FleetHost(host, providers);
        await fleet.Reconciler.InitializeAsync(CancellationToken.None);
        return fleet;
    }

    /// <summary>Applies YAML through the API; returns the HTTP answer.</summary>
    public async Task<HttpResponseMessage> ApplyAsync(string yaml, bool prune = false)
    {
        var parsed = ResourceYaml.Parse(yaml, "test.yaml");
        Assert.True(parsed.Ok, string.Join('\n', parsed.Errors));
        using var admin = Host.Admin();
        return await admin.PostAsJsonAsync("/api/v1/resources/apply", new ApplyRequest(parsed.Documents, prune));
    }

    public async Task ApplyOkAsync(string yaml)
    {
        using var response = await ApplyAsync(yaml);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public Task PassAsync() => Reconciler.ReconcileOnceAsync(CancellationToken.None);

    public async Task<IReadOnlyList<NodeClaim>> ClaimsAsync(bool all = false) =>
        await Store.Fleet.ListClaimsAsync(null, all, CancellationToken.None);

    /// <summary>A provider and a pool of <paramref name="replicas"/> one-H100 nodes over the named fake providers.</summary>
    public static string Fleet(int replicas, params string[] providers) =>
        string.Join("---\n", providers.Select(p => $"""
            apiVersion: atoll.dev/v1alpha1
            kind: Provider
            metadata: {"{"}name: {p}{"}"}
            spec: {"{"}type: local{"}"}

            """)) + $"""
            ---
            apiVersion: atoll.dev/v1alpha1
            kind: GpuPool
            metadata: {"{"}name: h100{"}"}
            spec:
              providers: [{string.Join(", ", providers)}]
              requirements: {"{"}gpuModels: [H100], gpusPerNode: 1{"}"}
              capacityTypes: [spot, on-demand]
              replicas: {replicas}
            """;

    public async ValueTask DisposeAsync() => await Host.DisposeAsync();
}
