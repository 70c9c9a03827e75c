using Atoll.Core.Contracts;

namespace Atoll.Core.Fleet;

/// <summary>Pure rules for node conditions: transitions keep their time unless the status changes.</summary>
public static class NodeConditions
{
    /// <summary>
    /// Returns <paramref name="conditions"/> with <paramref name="type"/> set. The last-transition time moves
    /// only when the status changes, as in Kubernetes.
    /// </summary>
    public static IReadOnlyList<NodeCondition> Set(
        IReadOnlyList<NodeCondition> conditions, string type, string status, string reason, string message, DateTimeOffset now)
    {
        var result = new List<NodeCondition>(conditions.Count + 1);
        var found = false;
        foreach (var c in conditions)
        {
            if (c.Type != type)
            {
                result.Add(c);
                continue;
            }
            found = true;
            result.Add(new NodeCondition(type, status, reason, message, c.Status == status ? c.LastTransitionTime : now));
        }
        if (!found)
        {
            result.Add(new NodeCondition(type, status, reason, message, now));
        }
        return result;
    }

    /// <summary>The condition of that type, if any.</summary>
    public static NodeCondition? Find(IReadOnlyList<NodeCondition> conditions, string type) =>
        conditions.FirstOrDefault(c => c.Type == type);

    /// <summary>True when the condition of that type has status True.</summary>
    public static bool IsTrue(IReadOnlyList<NodeCondition> conditions, string type) =>
        Find(conditions, type)?.Status == ConditionTypes.True;

    /// <summary>Conditions after a heartbeat arrived at <paramref name="now"/> with this GPU report.</summary>
    public static IReadOnlyList<NodeCondition> OnHeartbeat(IReadOnlyList<NodeCondition> conditions, GpuReport gpu, DateTimeOffset now)
    {
        var updated = Set(conditions, ConditionTypes.Ready, ConditionTypes.True, "AgentReporting", "agent is posting heartbeats", now);
        return gpu.Healthy
            ? Set(updated, ConditionTypes.GpuReady, ConditionTypes.True, gpu.Reason ?? "GpusHealthy",
                gpu.Message ?? $"{gpu.Gpus.Count} GPU(s) reported healthy", now)
            : Set(updated, ConditionTypes.GpuReady, ConditionTypes.False, gpu.Reason ?? "GpuUnhealthy",
                gpu.Message ?? "GPU check failed", now);
    }

    /// <summary>
    /// Conditions of a node whose last heartbeat was at <paramref name="lastHeartbeat"/>; when it is older than
    /// <paramref name="timeout"/> Ready becomes Unknown (we can no longer tell), else unchanged.
    /// </summary>
    public static IReadOnlyList<NodeCondition> OnLivenessCheck(
        IReadOnlyList<NodeCondition> conditions, DateTimeOffset lastHeartbeat, DateTimeOffset now, TimeSpan timeout)
    {
        if (now - lastHeartbeat <= timeout || Find(conditions, ConditionTypes.Ready)?.Status == ConditionTypes.Unknown)
        {
            return conditions;
        }
        var silent = (int)(now - lastHeartbeat).TotalSeconds;
        return Set(conditions, ConditionTypes.Ready, ConditionTypes.Unknown, "NodeStatusUnknown",
            $"agent stopped posting heartbeats (last {silent}s ago, timeout {(int)timeout.TotalSeconds}s)", now);
    }
}
