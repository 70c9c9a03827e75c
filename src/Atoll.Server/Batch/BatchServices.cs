using Microsoft.Extensions.DependencyInjection;

namespace Atoll.Server.Batch;

/// <summary>Registers the Files/Batches APIs' parts and the batch reconciler.</summary>
internal static class BatchServices
{
    public static IServiceCollection AddBatch(this IServiceCollection services)
    {
        services.AddSingleton<WorkSignal>();
        services.AddSingleton<BatchValidationStep>();
        services.AddSingleton<BatchFinalizer>();
        services.AddSingleton<BatchReconciler>();
        services.AddHostedService(sp => sp.GetRequiredService<BatchReconciler>());
        return services;
    }
}
