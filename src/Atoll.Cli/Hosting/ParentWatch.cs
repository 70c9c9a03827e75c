using System.CommandLine;

namespace Atoll.Cli.Hosting;

/// <summary>
/// <c>--exit-with-parent PID</c>: children of <c>atoll up</c> stop when it disappears, even if it was
/// SIGKILLed and could not stop them itself, so no orphan is left behind.
/// </summary>
internal static class ParentWatch
{
    public static readonly Option<int?> Option = new("--exit-with-parent")
    {
        Description = "stop when the process with this id exits (used by `atoll up`)",
        Hidden = true,
    };

    /// <summary>A token cancelled when <paramref name="ct"/> is, or when the parent given on the command line goes.</summary>
    public static CancellationTokenSource Link(ParseResult result, CancellationToken ct)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (result.GetValue(Option) is { } pid)
        {
            _ = WatchAsync(pid, cts);
        }
        return cts;
    }

    private static async Task WatchAsync(int pid, CancellationTokenSource cts)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        try
        {
            while (await timer.WaitForNextTickAsync(cts.Token).ConfigureAwait(false))
            {
                if (!IsAlive(pid))
                {
                    await Console.Error.WriteLineAsync($"parent process {pid} exited; stopping").ConfigureAwait(false);
                    await cts.CancelAsync().ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static bool IsAlive(int pid)
    {
        // On Linux, ask who our parent is now: once it dies we are re-parented, even while it is an unreaped
        // zombie (which Process.HasExited would still call running) and even if its pid is reused.
        if (File.Exists("/proc/self/stat"))
        {
            return ParentPid() == pid;
        }
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Field 4 of /proc/self/stat; the command name before it is in parentheses and may hold spaces.</summary>
    private static int ParentPid()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[1]);
    }
}
