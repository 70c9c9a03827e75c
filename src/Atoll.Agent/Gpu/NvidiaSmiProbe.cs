using System.ComponentModel;
using System.Diagnostics;
using Atoll.Core.Contracts;
using Atoll.Core.Health;

namespace Atoll.Agent.Gpu;

/// <summary>
/// Runs <c>nvidia-smi</c> with <see cref="NvidiaSmiParser.Arguments"/> and parses what it prints. A hung nvidia-smi
/// (a stuck driver does that) is killed after the timeout and reported as <c>NvidiaSmiTimeout</c>.
/// </summary>
internal sealed class NvidiaSmiProbe(string executable = "nvidia-smi", TimeSpan? timeout = null) : IGpuProbe
{
    private const int EnoEnt = 2;

    // After a kill, do not wait forever for pipes that a stray grandchild may still hold open.
    private static readonly TimeSpan DrainAfterKill = TimeSpan.FromSeconds(2);

    private readonly TimeSpan _timeout = timeout ?? TimeSpan.FromSeconds(10);

    public string Executable => executable;

    public TimeSpan Timeout => _timeout;

    public async Task<GpuReport> ProbeAsync(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var startInfo = new ProcessStartInfo(executable)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var argument in NvidiaSmiParser.Arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Win32Exception ex) when (ex.NativeErrorCode == EnoEnt)
        {
            return Unhealthy(GpuHealthReasons.NvidiaSmiNotFound,
                $"'{executable}' was not found: install the NVIDIA driver (it ships nvidia-smi), " +
                "or pass --gpus (e.g. --gpus 2xH100-80GB) to simulate GPUs");
        }
        catch (Exception ex) when (ex is Win32Exception or InvalidOperationException)
        {
            return Unhealthy(GpuHealthReasons.NvidiaSmiFailed, $"could not start '{executable}': {ex.Message}");
        }
        process.StandardInput.Close();

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            var output = await stdout.ConfigureAwait(false);
            var errors = await stderr.ConfigureAwait(false);
            return NvidiaSmiParser.Parse(output, errors, process.ExitCode);
        }
        catch (OperationCanceledException)
        {
            await KillAsync(process, stdout, stderr).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            return Unhealthy(GpuHealthReasons.NvidiaSmiTimeout,
                $"'{executable}' did not answer within {_timeout.TotalSeconds:0.###}s and was killed " +
                "(a hung nvidia-smi usually means a stuck driver or GPU; the node likely needs a reboot)");
        }
    }

    private static async Task KillAsync(Process process, Task<string> stdout, Task<string> stderr)
    {
        try
        {
            // The whole tree: a wrapper script's child would otherwise keep the output pipes open.
            process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or Win32Exception)
        {
            // It exited between the deadline and the kill; the reads below finish on their own.
        }
        try
        {
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(DrainAfterKill).ConfigureAwait(false);
            await Task.WhenAll(stdout, stderr).WaitAsync(DrainAfterKill).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException or IOException)
        {
            // What a killed nvidia-smi printed is not evidence of anything; the report says it timed out.
        }
    }

    private static GpuReport Unhealthy(string reason, string message) => new([], false, reason, message);
}
