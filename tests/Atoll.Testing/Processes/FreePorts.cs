using System.Net;
using System.Net.Sockets;

namespace Atoll.Testing.Processes;

/// <summary>TCP ports on 127.0.0.1 that nobody listened on a moment ago, so parallel tests do not collide.</summary>
public static class FreePorts
{
    /// <summary>Binds port 0, reads the port the kernel chose and releases it.</summary>
    public static int Next()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }
}
