namespace Atoll.Core.Contracts;

/// <summary>
/// A model endpoint as the gateway sees it (<c>GET /api/v1/endpoints</c>): what it serves and where, whether it takes
/// traffic now (<see cref="State"/>, and <see cref="Reason"/> when it does not), and its load.
/// </summary>
/// <param name="Name">The public name (<c>NODE/MODEL</c>, <c>static/MODEL</c>) used in <c>x-atoll-endpoint</c> and metrics.</param>
/// <param name="Url">The model server's base URL (admins only: clients of the gateway never see it).</param>
/// <param name="State">One of <see cref="EndpointStates"/>.</param>
/// <param name="Queue">The model server's own queue as last scraped from its <c>/metrics</c>; null when it has none.</param>
/// <param name="RttMs">Moving average of the health probe's round trip; null before the first answer.</param>
/// <param name="ConsecutiveFailures">Failed attempts since the last success or ejection.</param>
/// <param name="Ejections">Passive ejections since the server started.</param>
/// <param name="EjectedUntil">End of the current or latest ejection cooldown; null when never ejected since a success.</param>
public sealed record EndpointView(
    string Name,
    string Model,
    string Url,
    string? Node,
    string? Provider,
    string? Location,
    string? Gpu,
    string State,
    string? Reason,
    int InFlight,
    int Capacity,
    EndpointQueueView? Queue,
    double? RttMs,
    int ConsecutiveFailures,
    long Ejections,
    DateTimeOffset? EjectedUntil);

/// <summary>Requests waiting and running in a model server, scraped at <see cref="ObservedAt"/>.</summary>
public sealed record EndpointQueueView(int Waiting, int Running, DateTimeOffset ObservedAt);

/// <summary>The values of <see cref="EndpointView.State"/>; only <see cref="Up"/> receives traffic.</summary>
public static class EndpointStates
{
    /// <summary>Takes traffic (it may still be saturated: compare in-flight with capacity).</summary>
    public const string Up = "Up";

    /// <summary>Its node is not Ready (lost heartbeats, GPU or driver trouble).</summary>
    public const string NodeNotReady = "NodeNotReady";

    /// <summary>No health probe has passed yet (just registered, or the server is loading its model).</summary>
    public const string Starting = "Starting";

    /// <summary>Its latest health probe failed.</summary>
    public const string Unhealthy = "Unhealthy";

    /// <summary>Taken out of rotation after consecutive failed requests, until its cooldown ends.</summary>
    public const string Ejected = "Ejected";
}
