using System.Net.Http.Headers;
using System.Net.Http.Json;
using Atoll.Core.Contracts;
using Atoll.Server.Reconcilers;
using Atoll.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Atoll.Server.Tests;

/// <summary>A real <c>atoll server</c> app on a fresh store (SQLite or PostgreSQL), in memory, on fake time.</summary>
internal sealed class ServerHost : IAsyncDisposable
{
    private readonly TestDatabase database;
    private readonly WebApplication app;

    private ServerHost(TestDatabase database, WebApplication app, ServerOptions options, FakeTimeProvider time)
    {
        this.database = database;
        this.app = app;
        Options = options;
        Time = time;
        AdminToken = File.ReadAllText(options.AdminTokenPath).Trim();
    }

    public ServerOptions Options { get; }

    public FakeTimeProvider Time { get; }

    public string AdminToken { get; }

    public string DataDir => database.DataDir;

    public string Engine => database.Engine;

    public NodeLivenessReconciler Liveness => app.Services.GetRequiredService<NodeLivenessReconciler>();

    /// <summary>The app's services, for tests that drive a reconciler or look at a store directly.</summary>
    public IServiceProvider Services => app.Services;

    public static async Task<ServerHost> StartAsync(string engine, Action<ServerOptions>? configure = null, Action<WebApplicationBuilder>? build = null)
    {
        var database = await TestDatabase.CreateAsync(engine);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));
        var options = new ServerOptions
        {
            DataDir = database.DataDir,
            Store = database.StoreUrl,
            HeartbeatInterval = TimeSpan.FromSeconds(10),
        };
        configure?.Invoke(options);
        var app = await AtollServer.BuildAsync(options, b =>
        {
            b.WebHost.UseTestServer();
            build?.Invoke(b);
        }, time);
        await app.StartAsync();
        return new ServerHost(database, app, options, time);
    }

    public HttpClient Client(string? token = null)
    {
        var client = app.GetTestClient();
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return client;
    }

    public HttpClient Admin() => Client(AdminToken);

    public async Task<string> CreateJoinTokenAsync(int uses = 1, string ttl = "1h", string? pool = null)
    {
        using var admin = Admin();
        var response = await admin.PostAsJsonAsync("/api/v1/join-tokens", new CreateJoinTokenRequest(uses, ttl, pool, "test"));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JoinTokenView>())!.Token!;
    }

    public static RegisterNodeRequest Registration(string name, GpuReport? gpu = null) =>
        new(name, "lambda", "us-east-1", "iad-1", "gpu_8x_h100_sxm5", CapacityTypes.Spot,
            new Dictionary<string, string> { ["team"] = "ml" }, gpu ?? Gpus(8), [new ModelEndpoint("llama", "http://10.0.0.5:8000")], "test");

    public static GpuReport Gpus(int count) =>
        new([.. Enumerable.Range(0, count).Select(i => new GpuDevice(i, $"GPU-{i}", "NVIDIA H100 80GB HBM3", 81559, "550.54.15", 30, 0, 1))],
            true, "GpusHealthy", $"{count} GPU(s)");

    public async Task<HttpResponseMessage> RegisterAsync(string joinToken, RegisterNodeRequest request)
    {
        using var client = Client(joinToken);
        return await client.PostAsJsonAsync("/api/v1/agent/register", request);
    }

    /// <summary>Registers a node and returns its credential.</summary>
    public async Task<string> JoinAsync(string name, GpuReport? gpu = null)
    {
        var response = await RegisterAsync(await CreateJoinTokenAsync(), Registration(name, gpu));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<RegisterNodeResponse>())!.Credential;
    }

    public async Task<HttpResponseMessage> HeartbeatAsync(string credential, string name, GpuReport? gpu = null)
    {
        using var client = Client(credential);
        return await client.PostAsJsonAsync("/api/v1/agent/heartbeat", new HeartbeatRequest(name, gpu ?? Gpus(8), []));
    }

    public async Task<NodeView> GetNodeAsync(string name)
    {
        using var admin = Admin();
        return (await admin.GetFromJsonAsync<NodeView>($"/api/v1/nodes/{name}"))!;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        await database.DisposeAsync();
    }
}
