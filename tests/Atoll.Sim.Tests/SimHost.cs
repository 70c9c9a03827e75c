using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atoll.Sim.Tests;

/// <summary>A real <c>atoll sim</c> on Kestrel, on a free port of 127.0.0.1.</summary>
internal sealed class SimHost : IAsyncDisposable
{
    private readonly WebApplication app;

    private SimHost(WebApplication app, Uri baseAddress)
    {
        this.app = app;
        BaseAddress = baseAddress;
        Http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri BaseAddress { get; }

    public Uri OpenAiEndpoint => new(BaseAddress, "/v1");

    public HttpClient Http { get; }

    /// <summary>Options with no delays and no jitter, so tests run at full speed unless they ask for time.</summary>
    public static SimOptions Instant() => new()
    {
        TimeToFirstToken = TimeSpan.Zero,
        InterTokenLatency = TimeSpan.Zero,
        PrefillPerToken = TimeSpan.Zero,
        Jitter = 0,
    };

    public static async Task<SimHost> StartAsync(SimOptions? options = null, TimeProvider? time = null)
    {
        options ??= Instant();
        options.Port = 0;
        var app = SimServer.Build(options, b => b.Logging.ClearProviders(), time);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new SimHost(app, new Uri(address));
    }

    public Task<HttpResponseMessage> PostAsync(string path, object body, CancellationToken ct = default) =>
        Http.PostAsJsonAsync(path, body, ct);

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    /// <summary>The value of one sample of /metrics: <paramref name="name"/> with all of <paramref name="labels"/>.</summary>
    public async Task<double> MetricAsync(string name, params string[] labels)
    {
        var text = await Http.GetStringAsync("/metrics");
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name + "{", StringComparison.Ordinal) && labels.All(l => line.Contains(l, StringComparison.Ordinal)))
            {
                return double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }
        return 0;
    }

    /// <summary>Polls /metrics until the sample satisfies <paramref name="condition"/>; returns the last value seen.</summary>
    public async Task<double> WaitForMetricAsync(string name, Func<double, bool> condition, params string[] labels)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var value = await MetricAsync(name, labels);
            if (condition(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }
            await Task.Delay(10);
        }
    }

    /// <summary>Stops the server the way SIGTERM does, with clients still connected.</summary>
    public Task StopServerAsync() => app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
