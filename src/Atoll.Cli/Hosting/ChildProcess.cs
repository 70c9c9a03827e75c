using System.Diagnostics;

namespace Atoll.Cli.Hosting;

/// <summary>
/// A child of <c>atoll up</c> whose output goes straight to a log file (through the shell, so the child keeps
/// logging even if its parent dies), stopped with SIGTERM and, after a grace period, SIGKILL.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private ChildProcess(string name, Process process, string logPath)
    {
        Name = name;
        Process = process;
        LogPath = logPath;
    }

    public string Name { get; }

    public Process Process { get; }

    public string LogPath { get; }

    public static ChildProcess Start(string name, IEnumerable<string> arguments, string logPath)
    {
        var (file, prefix) = SelfCommand.Resolve();
        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardInput = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"$0\" \"$@\" >>\"$ATOLL_CHILD_LOG\" 2>&1 </dev/null");
        info.ArgumentList.Add(file);
        foreach (var a in prefix.Concat(arguments))
        {
            info.ArgumentList.Add(a);
        }
        info.Environment["ATOLL_CHILD_LOG"] = logPath;
        info.Environment.Remove("ATOLL_TOKEN");
        var process = Process.Start(info) ?? throw new CliException($"could not start {name}");
        return new ChildProcess(name, process, logPath);
    }

    public bool HasExited => Process.HasExited;

    /// <summary>SIGTERM, wait up to <paramref name="grace"/>, then SIGKILL.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (Process.HasExited)
        {
            return;
        }
        using (var kill = Process.Start("kill", ["-TERM", Process.Id.ToString()]))
        {
            await kill.WaitForExitAsync().ConfigureAwait(false);
        }
        using var timeout = new CancellationTokenSource(grace);
        try
        {
            await Process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Process.Kill(entireProcessTree: true);
            await Process.WaitForExitAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The last lines of the log, to show why a child died.</summary>
    public string Tail(int lines = 15)
    {
        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return string.Join('\n', all.TakeLast(lines));
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }

    public void Dispose() => Process.Dispose();
}
