using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Atoll.Testing.Processes;

/// <summary>
/// A real <c>dotnet atoll.dll ARGS</c> process: its standard output and error captured line by line into one
/// thread-safe buffer (and a log file, when given), waits that always time out with the process's recent output
/// in the message, POSIX signals, and a dispose that kills the whole process tree if it is still running.
/// </summary>
public sealed class AtollProcess : IAsyncDisposable
{
    private const int TailCharacters = 4000;
    private static readonly TimeSpan KillWait = TimeSpan.FromSeconds(10);

    private readonly Process process;
    private readonly Lock gate = new();
    private readonly StringBuilder output = new();
    private readonly StringBuilder stdout = new();
    private readonly StringBuilder stderr = new();
    private readonly StreamWriter? log;
    private TaskCompletionSource changed = NewSignal();
    private int openStreams = 2;
    private bool disposed;

    private AtollProcess(Process process, string description, StreamWriter? log)
    {
        this.process = process;
        this.log = log;
        Description = description;
    }

    /// <summary>"atoll ARGS", for messages.</summary>
    public string Description { get; }

    public int Id => process.Id;

    public DateTimeOffset StartedAt { get; private set; }

    public bool HasExited => process.HasExited;

    /// <summary>The exit code once the process has exited, else null.</summary>
    public int? ExitCode => process.HasExited ? process.ExitCode : null;

    /// <summary>Everything printed so far, stdout and stderr interleaved in arrival order, one line per line.</summary>
    public string Output
    {
        get
        {
            lock (gate)
            {
                return output.ToString();
            }
        }
    }

    public string StandardOutput
    {
        get
        {
            lock (gate)
            {
                return stdout.ToString();
            }
        }
    }

    public string StandardError
    {
        get
        {
            lock (gate)
            {
                return stderr.ToString();
            }
        }
    }

    /// <summary>
    /// Starts <c>dotnet <paramref name="atollDll"/> <paramref name="arguments"/></c>. Inherited <c>ATOLL_*</c>
    /// variables are removed so a developer's shell cannot change what a test sees; <paramref name="environment"/>
    /// adds variables (a null value removes one). Output is also appended to <paramref name="logPath"/> when given.
    /// </summary>
    public static AtollProcess Start(
        string atollDll, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null, string? logPath = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(atollDll);
        ArgumentNullException.ThrowIfNull(arguments);
        if (!File.Exists(atollDll))
        {
            throw new FileNotFoundException($"atoll.dll not found at {atollDll}: does the test project reference src/Atoll.Cli?", atollDll);
        }
        var args = arguments.ToList();
        var info = new ProcessStartInfo(DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = Path.GetDirectoryName(atollDll)!,
        };
        info.ArgumentList.Add(atollDll);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("ATOLL_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }

        StreamWriter? log = null;
        if (logPath is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logPath))!);
            log = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        }
        var description = "atoll " + string.Join(' ', args);
        var result = new AtollProcess(new Process { StartInfo = info, EnableRaisingEvents = true }, description, log);
        result.process.OutputDataReceived += (_, e) => result.OnLine(e.Data, error: false);
        result.process.ErrorDataReceived += (_, e) => result.OnLine(e.Data, error: true);
        try
        {
            result.process.Start();
        }
        catch (Win32Exception e)
        {
            log?.Dispose();
            result.process.Dispose();
            throw new InvalidOperationException($"could not start {info.FileName} {description}: {e.Message}", e);
        }
        result.StartedAt = DateTimeOffset.UtcNow;
        result.process.StandardInput.Close();
        result.process.BeginOutputReadLine();
        result.process.BeginErrorReadLine();
        result.LogOnly($"$ {description} (pid {result.Id})");
        return result;
    }

    /// <summary>Starts the process, waits for it to exit within <paramref name="timeout"/> and returns what it printed.</summary>
    public static async Task<ProcessResult> RunAsync(
        string atollDll, IEnumerable<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string?>? environment = null, string? logPath = null)
    {
        await using var p = Start(atollDll, arguments, environment, logPath);
        var code = await p.WaitForExitAsync(timeout);
        return new ProcessResult(code, p.StandardOutput, p.StandardError);
    }

    /// <summary>Waits until the output contains <paramref name="text"/>; throws if the process exits first or time runs out.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        ArgumentException.ThrowIfNullOrEmpty(text);
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            Task next;
            bool closed;
            lock (gate)
            {
                if (output.ToString().Contains(text, StringComparison.Ordinal))
                {
                    return;
                }
                next = changed.Task;
                closed = openStreams == 0;
            }
            if (closed)
            {
                throw new InvalidOperationException(
                    $"{Description} (pid {Id}) ended without printing '{text}'; exit code {ExitCodeText()}; recent output:\n{Tail()}");
            }
            var left = deadline - DateTimeOffset.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException(
                    $"{Description} (pid {Id}) did not print '{text}' within {timeout.TotalSeconds:0.#}s; recent output:\n{Tail()}");
            }
            // A closed stream also completes the signal, so the loop sees the process end without polling.
            await Task.WhenAny(next, Task.Delay(left));
        }
    }

    /// <summary>Waits for the process to exit and returns its exit code; throws <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            // Also waits for the output pipes to close, so Output is complete afterwards.
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            if (!process.HasExited)
            {
                throw new TimeoutException(
                    $"{Description} (pid {Id}) did not exit within {timeout.TotalSeconds:0.#}s; recent output:\n{Tail()}");
            }
            // It exited but something it started still holds the output pipes: the exit code is what counts.
        }
        return process.ExitCode;
    }

    /// <summary>
    /// Sends signal <paramref name="signal"/> (see <see cref="Signals"/>) to this process only, not its children:
    /// SIGKILL through <see cref="Process.Kill()"/>, any other through <c>kill -SIG PID</c>.
    /// </summary>
    public void SendSignal(int signal)
    {
        if (process.HasExited)
        {
            throw new InvalidOperationException($"{Description} (pid {Id}) already exited with code {process.ExitCode}; cannot send signal {signal}");
        }
        LogOnly($"--- test sends signal {signal} to pid {Id} ---");
        if (signal == Signals.Kill)
        {
            process.Kill(entireProcessTree: false);
            return;
        }
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { $"-{signal}", Id.ToString() }, UseShellExecute = false })
            ?? throw new InvalidOperationException("could not start kill");
        if (!kill.WaitForExit(TimeSpan.FromSeconds(10)) || kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {Id} failed (exit code {(kill.HasExited ? kill.ExitCode : "none: hung")})");
        }
    }

    /// <summary>The last few thousand characters of output, for failure messages.</summary>
    public string Tail()
    {
        var all = Output;
        return all.Length <= TailCharacters ? all : "..." + all[^TailCharacters..];
    }

    public override string ToString() => $"{Description} (pid {Id})";

    /// <summary>Kills the whole process tree if it still runs, waits for it, and closes the log.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                using var cts = new CancellationTokenSource(KillWait);
                try
                {
                    await process.WaitForExitAsync(cts.Token);
                }
                catch (OperationCanceledException)
                {
                    // Killed but the pipes stay open (an orphaned grandchild); nothing more to wait for.
                }
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }
        finally
        {
            lock (gate)
            {
                disposed = true;
                log?.Dispose();
            }
            process.Dispose();
        }
    }

    private void OnLine(string? line, bool error)
    {
        TaskCompletionSource signal;
        lock (gate)
        {
            if (line is null)
            {
                openStreams--;
            }
            else
            {
                output.Append(line).Append('\n');
                (error ? stderr : stdout).Append(line).Append('\n');
                if (!disposed)
                {
                    log?.WriteLine(line);
                }
            }
            signal = changed;
            changed = NewSignal();
        }
        signal.TrySetResult();
    }

    private void LogOnly(string line)
    {
        lock (gate)
        {
            if (!disposed)
            {
                log?.WriteLine(line);
            }
        }
    }

    private string ExitCodeText() => process.HasExited ? process.ExitCode.ToString() : "none yet";

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The dotnet host running this test, so the atoll under test runs on the same runtime.</summary>
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            return self;
        }
        return "dotnet";
    }
}
