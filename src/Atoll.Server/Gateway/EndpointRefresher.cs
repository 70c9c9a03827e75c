using Atoll.Storage.State;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atoll.Server.Gateway;

/// <summary>Keeps the gateway's endpoints in step with the node registry (models reported by agents, node Ready).</summary>
internal sealed class EndpointRefresher(
    IStateStore store, EndpointRegistry registry, IOptions<GatewayOptions> options, TimeProvider time, ILogger<EndpointRefresher> logger)
    : BackgroundService
{
    public async Task RefreshOnceAsync(CancellationToken ct) =>
        registry.Update(await store.ListNodesAsync(ct).ConfigureAwait(false));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RefreshInterval, time);
        do
        {
            try
            {
                await RefreshOnceAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Keep routing on the last known endpoints while the store is away.
                logger.LogWarning("Cannot refresh gateway endpoints from the store: {Error}", e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
