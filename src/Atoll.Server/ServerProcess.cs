using System.Globalization;

namespace Atoll.Server;

/// <summary>Process-wide runtime settings of a process that runs the server; they must be made before its first socket.</summary>
public static class ServerProcess
{
    /// <summary>The runtime reads this once, when the first socket is created.</summary>
    public const string SocketThreadsVariable = "DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT";

    /// <summary>
    /// Whether a command line runs the server (<c>atoll server</c> or <c>atoll up</c>), global options such as
    /// <c>--server URL</c> before the command included.
    /// </summary>
    public static bool RunsServer(IReadOnlyList<string> args)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "--server" or "--token")
            {
                i++; // its value
                continue;
            }
            if (arg.StartsWith('-'))
            {
                continue;
            }
            return arg is "server" or "up";
        }
        return false;
    }

    /// <summary>
    /// One socket event thread per core, unless the operator set <see cref="SocketThreadsVariable"/>. The gateway
    /// runs forwarded requests on these threads (Gateway/InlineIo.cs), and the runtime's default of one thread per
    /// 30 cores would hold the gateway to one core; one per core is the runtime's own choice when every socket
    /// completes inline. Measured on 2 cores (bench/README.md, "Socket event threads"): 2 threads instead of 1 gave
    /// 4–7 % more requests/s saturated, and the same p99 within the noise at 64 in flight.
    /// </summary>
    public static void PrepareRuntime()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(SocketThreadsVariable)))
        {
            Environment.SetEnvironmentVariable(SocketThreadsVariable, Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture));
        }
    }
}
