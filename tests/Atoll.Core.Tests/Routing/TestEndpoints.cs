using Atoll.Core.Routing;

namespace Atoll.Core.Tests.Routing;

/// <summary>Endpoints ready to take traffic unless a test says otherwise.</summary>
internal static class TestEndpoints
{
    public static RoutableEndpoint Create(
        string id,
        TimeProvider time,
        string model = "llama",
        string? location = null,
        int capacity = 16,
        EjectionOptions? ejection = null) =>
        new(id, model, new Uri($"http://{id}:8000/"), time, ejection)
        {
            Node = id,
            Location = location,
            Capacity = capacity,
            NodeReady = true,
            ServerHealthy = true,
        };

    public static void Load(RoutableEndpoint endpoint, int requests)
    {
        for (var i = 0; i < requests; i++)
            endpoint.BeginRequest();
    }
}
