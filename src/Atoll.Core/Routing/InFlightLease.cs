namespace Atoll.Core.Routing;

/// <summary>One request counted in an endpoint's in-flight total until disposed; disposing twice counts once.</summary>
internal sealed class InFlightLease(RoutableEndpoint endpoint) : IDisposable
{
    private int disposed;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
            endpoint.EndRequest();
    }
}
