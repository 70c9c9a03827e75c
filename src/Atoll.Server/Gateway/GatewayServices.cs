using Atoll.Core.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atoll.Server.Gateway;

/// <summary>Registers the gateway's parts.</summary>
internal static class GatewayServices
{
    public static IServiceCollection AddGateway(this IServiceCollection services, GatewayOptions options)
    {
        // ASP.NET Core starts an Activity for every request while its hosting log category is enabled at any level
        // (for log scopes), and HttpClient then adds trace headers to each upstream request. That category only logs
        // request start/finish at Information, which the server does not show anyway: off, the gateway's requests
        // cost no Activity.
        services.AddLogging(logging => logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None));
        services.AddSingleton(Options.Create(options));
        services.AddSingleton(new PrefixIndex(options.Picker.PrefixBlocksPerEndpoint));
        services.AddSingleton(sp => EndpointPicker.CreateDefault(options.Picker, sp.GetRequiredService<PrefixIndex>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new RetryBudget(options.RetryBudget, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<EndpointRegistry>();
        services.AddSingleton<UpstreamClients>();
        services.AddSingleton<UpstreamForwarder>();
        services.AddSingleton<ApiKeyAuthenticator>();
        services.AddSingleton<KeyRateLimiter>();
        services.AddSingleton<GatewayMetrics>();
        services.AddSingleton<GatewayHandler>();
        services.AddSingleton<Http1Front>();
        services.AddSingleton<EndpointRefresher>();
        services.AddHostedService(sp => sp.GetRequiredService<EndpointRefresher>());
        services.AddSingleton<EndpointProber>();
        services.AddHostedService(sp => sp.GetRequiredService<EndpointProber>());
        return services;
    }
}
