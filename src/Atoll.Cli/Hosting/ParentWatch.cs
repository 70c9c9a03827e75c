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
}
