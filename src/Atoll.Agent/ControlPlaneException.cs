using System.Net;

namespace Atoll.Agent;

/// <summary>An answer from the control plane that retrying will not change (4xx), with the server's message.</summary>
public sealed class ControlPlaneException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}
