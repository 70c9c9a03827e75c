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
    /// One socket event thread per two cores, unless the operator set <see cref="SocketThreadsVariable"/>. The
    /// gateway runs forwarded requests on these threads (Gateway/InlineIo.cs), and the runtime's default of one
    /// thread per 30 cores would hold a large machine's gateway to one core. On 2 cores it stays 1, which measured
    /// best there.
    /// </summary>
    public static void PrepareRuntime()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(SocketThreadsVariable)))
        {
            Environment.SetEnvironmentVariable(SocketThreadsVariable,
                Math.Max(1, Environment.ProcessorCount / 2).ToString(CultureInfo.InvariantCulture));
        }
    }
}
