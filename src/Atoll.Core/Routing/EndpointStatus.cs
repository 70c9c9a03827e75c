using Atoll.Core.Contracts;

namespace Atoll.Core.Routing;

/// <summary>Describes a <see cref="RoutableEndpoint"/> for admins: its state, why it takes no traffic, its load.</summary>
public static class EndpointStatus
{
    /// <summary>
    /// The view of <paramref name="endpoint"/> at <paramref name="now"/>. When several things keep it from traffic,
    /// the state names the first of: node not Ready, probe never passed, probe failing, ejected; the reason says
    /// what was seen.
    /// </summary>
    public static EndpointView Of(RoutableEndpoint endpoint, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var health = endpoint.Health;
        var (state, reason) = State(endpoint, now);
        return new EndpointView(
            endpoint.Name, endpoint.Model, endpoint.Url.ToString(), endpoint.Node, endpoint.Provider, endpoint.Location, endpoint.GpuType,
            state, reason, endpoint.InFlight, endpoint.Capacity,
            endpoint.Queue is { } q ? new EndpointQueueView(q.Waiting, q.Running, q.ObservedAt) : null,
            endpoint.Rtt is { } rtt ? Math.Round(rtt.TotalMilliseconds, 2) : null,
            health.ConsecutiveFailures, health.EjectionCount, health.EjectedUntil);
    }

    private static (string State, string? Reason) State(RoutableEndpoint endpoint, DateTimeOffset now)
    {
        if (!endpoint.NodeReady)
        {
            return (EndpointStates.NodeNotReady, $"node {endpoint.Node} is not Ready; see `atoll nodes describe {endpoint.Node}`");
        }
        if (!endpoint.ServerHealthy)
        {
            return endpoint.ProbeProblem is { } problem
                ? (EndpointStates.Unhealthy, problem)
                : (EndpointStates.Starting, "waiting for the first passing health probe");
        }
        if (endpoint.Health.IsEjected(now) && endpoint.Health.EjectedUntil is { } until)
        {
            var left = until - now;
            return (EndpointStates.Ejected,
                $"its requests failed (ejection {endpoint.Health.ConsecutiveEjections} in a row); back in {Math.Ceiling(left.TotalSeconds):0}s, at {until:u}");
        }
        return (EndpointStates.Up, null);
    }
}
