namespace Atoll.Core.Routing;

public enum PickOutcome
{
    /// <summary>An endpoint was chosen.</summary>
    Picked,

    /// <summary>No endpoint can take the request: none serves the model, or all are not ready, unhealthy, ejected or already tried (503).</summary>
    NoEndpoints,

    /// <summary>Endpoints are available but all at capacity: queue the request or answer 429.</summary>
    AllSaturated,
}
