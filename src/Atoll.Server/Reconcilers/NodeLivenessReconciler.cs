using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Server.Observability;
using Atoll.Storage.State;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atoll.Server.Reconcilers;

/// <summary>
/// Marks nodes whose agent went silent: Ready becomes Unknown once the last heartbeat is older than the node
/// timeout (3 × heartbeat interval by default). Writes are fenced by the heartbeat time it read, so a heartbeat
/// that lands meanwhile wins.
/// </summary>
internal sealed class NodeLivenessReconciler(
    IStateStore store, TimeProvider time, IOptions<ServerOptions> options, ServerMetrics metrics, ILogger<NodeLivenessReconciler> logger)
    : BackgroundService
{
    /// <summary>How often the pass runs: often enough to notice a silent node within a second or two of its timeout.</summary>
    public TimeSpan Period
    {
        get
        {
            var third = options.Value.EffectiveNodeTimeout / 6;
            return third < TimeSpan.FromMilliseconds(500) ? TimeSpan.FromMilliseconds(500) : third > TimeSpan.FromSeconds(5) ? TimeSpan.FromSeconds(5) : third;
        }
    }

    /// <summary>One pass over all nodes; returns the names that became not-Ready.</summary>
    public async Task<IReadOnlyList<string>> ReconcileOnceAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var timeout = options.Value.EffectiveNodeTimeout;
        var nodes = await store.ListNodesAsync(ct).ConfigureAwait(false);
        var lost = new List<string>();
        foreach (var node in nodes)
        {
            var updated = NodeConditions.OnLivenessCheck(node.Conditions, node.LastHeartbeatAt, now, timeout);
            if (ReferenceEquals(updated, node.Conditions))
            {
                continue;
            }
            if (await store.UpdateConditionsAsync(node.Name, updated, node.LastHeartbeatAt, ct).ConfigureAwait(false))
            {
                lost.Add(node.Name);
                logger.LogWarning("Node {Node} is not Ready: no heartbeat since {LastHeartbeat:O} (timeout {Timeout}s)",
                    node.Name, node.LastHeartbeatAt, timeout.TotalSeconds);
            }
        }
        var current = lost.Count == 0 ? nodes : await store.ListNodesAsync(ct).ConfigureAwait(false);
        Publish(current);
        return lost;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, time);
        do
        {
            try
            {
                await ReconcileOnceAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The store may be briefly unreachable; the next tick tries again.
                logger.LogError(e, "Node liveness pass failed; retrying in {Period}", Period);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private void Publish(IReadOnlyList<NodeView> nodes)
    {
        foreach (var type in new[] { ConditionTypes.Ready, ConditionTypes.GpuReady })
        {
            foreach (var status in new[] { ConditionTypes.True, ConditionTypes.False, ConditionTypes.Unknown })
            {
                metrics.Nodes.WithLabels(type, status).Set(nodes.Count(n => (NodeConditions.Find(n.Conditions, type)?.Status ?? ConditionTypes.Unknown) == status));
            }
        }
    }
}
