using Atoll.Core.Fleet;
using Atoll.Providers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atoll.Server.Fleet;

/// <summary>Registers provisioning: provider adapters, catalogs, the claim lifecycle and its control loop.</summary>
internal static class FleetServiceCollectionExtensions
{
    public static IServiceCollection AddFleet(this IServiceCollection services)
    {
        // Tests replace the factory (e.g. to pass fast retry settings); the default builds the real adapters.
        services.TryAddSingleton<Func<ProviderContext, ICloudProvider>>(CloudProviderFactory.Create);
        services.AddSingleton(sp => new ProviderRegistry(
            sp.GetRequiredService<Func<ProviderContext, ICloudProvider>>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton(sp => new UnavailableOffers(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<ServerOptions>>().Value.Fleet.UnavailableOfferTtl));
        services.AddSingleton<OfferCatalog>();
        services.AddSingleton<ClaimLauncher>();
        services.AddSingleton<ClaimTerminator>();
        services.AddSingleton<InstancePoller>();
        services.AddSingleton<OrphanSweeper>();
        services.AddSingleton<FleetReconciler>();
        services.AddHostedService(sp => sp.GetRequiredService<FleetReconciler>());
        return services;
    }
}
