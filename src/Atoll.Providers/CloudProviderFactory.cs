using Atoll.Core.Resources;
using Atoll.Providers.Hetzner;
using Atoll.Providers.Lambda;
using Atoll.Providers.Local;
using Atoll.Providers.Ssh;
using Atoll.Providers.TensorDock;
using Atoll.Providers.Verda;
using Atoll.Providers.VoltagePark;

namespace Atoll.Providers;

/// <summary>Builds the adapter for a Provider resource's <c>type</c>.</summary>
public static class CloudProviderFactory
{
    public static ICloudProvider Create(ProviderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Spec.Type switch
        {
            ProviderTypes.Lambda => new LambdaCloudProvider(context),
            ProviderTypes.Verda => new VerdaCloudProvider(context),
            ProviderTypes.VoltagePark => new VoltageParkCloudProvider(context),
            ProviderTypes.TensorDock => new TensorDockCloudProvider(context),
            ProviderTypes.Hetzner => new HetznerCloudProvider(context),
            ProviderTypes.Ssh => new SshCloudProvider(context),
            ProviderTypes.Local => new LocalCloudProvider(context),
            _ => throw new NotSupportedException($"unknown provider type '{context.Spec.Type}': use one of {string.Join(", ", ProviderTypes.All)}"),
        };
    }
}
