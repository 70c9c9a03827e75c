using System.Diagnostics;

namespace Atoll.Providers.Local;

/// <summary>
/// A process started by the local provider, its output appended to a log file through the shell (so it keeps
/// logging even if the server dies), stopped with SIGTERM and then SIGKILL.
/// </summary>
internal sealed class LocalProcess : IDisposable
{
    private LocalProcess(Process process, string logPath)
    {
        Process = process;
        LogPath = logPath;
    }

    public Process Process { get; }

    public string LogPath { get; }

    public bool HasExited => Process.HasExited;

    public static LocalProcess Start(string file, IEnumerable<string> arguments, string logPath, IReadOnlyDictionary<string, string>? environment = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardInput = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"$0\" \"$@\" >>\"$ATOLL_CHILD_LOG\" 2>&1 </dev/null");
        info.ArgumentList.Add(file);
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }
        info.Environment["ATOLL_CHILD_LOG"] = logPath;
        // A node gets its own credential at registration; it must not inherit the server's or an admin's secrets.
        info.Environment.Remove("ATOLL_TOKEN");
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("ATOLL_SECRET", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        var process = Process.Start(info) ?? throw new ProviderException(Core.Fleet.ProviderErrorReason.Transient, $"could not start {file}");
        return new LocalProcess(process, logPath);
    }

    /// <summary>SIGTERM, wait up to <paramref name="grace"/>, then SIGKILL.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (Process.HasExited)
        {
            return;
        }
        try
        {
            using (var kill = Process.Start("kill", ["-TERM", Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync().ConfigureAwait(false);
            }
            using var timeout = new CancellationTokenSource(grace);
            await Process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Process.Kill(entireProcessTree: true);
            await Process.WaitForExitAsync().ConfigureAwait(false);
        }
    }

    public void Dispose() => Process.Dispose();
}
