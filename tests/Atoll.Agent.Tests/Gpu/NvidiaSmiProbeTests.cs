using System.Diagnostics;
using System.Runtime.Versioning;
using Atoll.Agent.Gpu;
using Atoll.Core.Health;

namespace Atoll.Agent.Tests.Gpu;

// Not in parallel with other tests: a script written while another thread forks can fail to exec with ETXTBSY.
[CollectionDefinition(nameof(NvidiaSmiProbeTests), DisableParallelization = true)]
[Collection(nameof(NvidiaSmiProbeTests))]
[UnsupportedOSPlatform("windows")] // The fake nvidia-smi is a shell script, as the real one only runs on Linux here.
public sealed class NvidiaSmiProbeTests : IDisposable
{
    private const string TwoGpus = """
        0, GPU-5f3c1a2e-8b9d-4c1e-a3f2-0123456789ab, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 34, 0, 1
        1, GPU-6a1d2b3c-4e5f-4a6b-8c7d-1123456789ab, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 36, 87, 40211
        """;

    private readonly FakeNvidiaSmiDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Healthy_output_becomes_a_healthy_report()
    {
        var smi = _dir.Script("nvidia-smi", $"cat <<'CSV'\n{TwoGpus}\nCSV");

        var report = await new NvidiaSmiProbe(smi).ProbeAsync(CancellationToken.None);

        Assert.True(report.Healthy, report.Message);
        Assert.Equal(GpuHealthReasons.GpusHealthy, report.Reason);
        Assert.Equal(2, report.Gpus.Count);
        Assert.Equal(81559L, report.Gpus[1].MemoryTotalMiB);
        Assert.Equal(87, report.Gpus[1].UtilizationPercent);
        Assert.Equal(40211L, report.Gpus[1].MemoryUsedMiB);
        Assert.False(report.Simulated);
    }

    [Fact]
    public async Task The_exact_query_arguments_are_passed()
    {
        var argsFile = Path.Combine(_dir.Path, "args.txt");
        var smi = _dir.Script("nvidia-smi", $"printf '%s\\n' \"$#\" \"$@\" > '{argsFile}'\ncat <<'CSV'\n{TwoGpus}\nCSV");

        var report = await new NvidiaSmiProbe(smi).ProbeAsync(CancellationToken.None);

        Assert.True(report.Healthy, report.Message);
        Assert.Equal(
            [
                "2",
                "--query-gpu=index,uuid,name,memory.total,driver_version,temperature.gpu,utilization.gpu,memory.used",
                "--format=csv,noheader,nounits",
            ],
            await File.ReadAllLinesAsync(argsFile));
    }

    [Fact]
    public async Task Nvml_mismatch_printed_with_exit_18_is_a_driver_library_mismatch()
    {
        var smi = _dir.Script("nvidia-smi", """
            echo "Failed to initialize NVML: Driver/library version mismatch"
            echo "NVML library version: 550.90"
            exit 18
            """);

        var report = await new NvidiaSmiProbe(smi).ProbeAsync(CancellationToken.None);

        Assert.False(report.Healthy);
        Assert.Equal(GpuHealthReasons.DriverLibraryMismatch, report.Reason);
        Assert.Contains("Driver/library version mismatch", report.Message);
    }

    [Fact]
    public async Task Stderr_and_exit_code_reach_the_parser()
    {
        var smi = _dir.Script("nvidia-smi", """
            echo "nvidia-smi: broken in a new way" >&2
            exit 3
            """);

        var report = await new NvidiaSmiProbe(smi).ProbeAsync(CancellationToken.None);

        Assert.Equal(GpuHealthReasons.NvidiaSmiFailed, report.Reason);
        Assert.Equal("nvidia-smi exited with code 3: nvidia-smi: broken in a new way", report.Message);
    }

    [Fact]
    public async Task A_hung_nvidia_smi_is_killed_after_the_timeout()
    {
        var pidFile = Path.Combine(_dir.Path, "sleep.pid");
        var smi = _dir.Script("nvidia-smi", $"sleep 30 &\necho $! > '{pidFile}'\nwait");
        var clock = Stopwatch.StartNew();

        var report = await new NvidiaSmiProbe(smi, TimeSpan.FromMilliseconds(500)).ProbeAsync(CancellationToken.None);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.False(report.Healthy);
        Assert.Equal(GpuHealthReasons.NvidiaSmiTimeout, report.Reason);
        Assert.Contains("0.5s", report.Message);
        // The script's child is gone too, not left holding the pipe.
        var sleepPid = int.Parse(await File.ReadAllTextAsync(pidFile));
        Assert.False(await StillRunningAsync(sleepPid), $"sleep (pid {sleepPid}) survived the kill");
    }

    [Fact]
    public async Task Cancellation_kills_the_process_and_throws()
    {
        var pidFile = Path.Combine(_dir.Path, "sleep.pid");
        var smi = _dir.Script("nvidia-smi", $"sleep 30 &\necho $! > '{pidFile}'\nwait");
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => new NvidiaSmiProbe(smi, TimeSpan.FromSeconds(20)).ProbeAsync(cts.Token));

        var sleepPid = int.Parse(await File.ReadAllTextAsync(pidFile));
        Assert.False(await StillRunningAsync(sleepPid), $"sleep (pid {sleepPid}) survived the cancellation");
    }

    [Fact]
    public async Task A_missing_executable_says_to_install_the_driver_or_simulate()
    {
        var missing = Path.Combine(_dir.Path, "no-such-dir", "nvidia-smi");

        var report = await new NvidiaSmiProbe(missing).ProbeAsync(CancellationToken.None);

        Assert.False(report.Healthy);
        Assert.Equal(GpuHealthReasons.NvidiaSmiNotFound, report.Reason);
        Assert.Contains("install the NVIDIA driver", report.Message);
        Assert.Contains("--gpus", report.Message);
    }

    [Fact]
    public async Task A_missing_command_on_the_path_is_not_found()
    {
        var report = await new NvidiaSmiProbe("atoll-no-such-nvidia-smi").ProbeAsync(CancellationToken.None);

        Assert.Equal(GpuHealthReasons.NvidiaSmiNotFound, report.Reason);
    }

    [Fact]
    public async Task A_file_that_cannot_be_executed_is_a_failure_not_an_exception()
    {
        var path = Path.Combine(_dir.Path, "nvidia-smi");
        await File.WriteAllTextAsync(path, "not a program");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var report = await new NvidiaSmiProbe(path).ProbeAsync(CancellationToken.None);

        Assert.False(report.Healthy);
        Assert.Equal(GpuHealthReasons.NvidiaSmiFailed, report.Reason);
        Assert.Contains(path, report.Message);
    }

    [Fact]
    public void Defaults_are_nvidia_smi_on_the_path_and_ten_seconds()
    {
        var probe = new NvidiaSmiProbe();

        Assert.Equal("nvidia-smi", probe.Executable);
        Assert.Equal(TimeSpan.FromSeconds(10), probe.Timeout);
    }

    /// <summary>
    /// Whether the process still runs 3 s on: SIGKILL takes effect when the process is next scheduled, which on a
    /// loaded machine can come after the probe has returned.
    /// </summary>
    private static async Task<bool> StillRunningAsync(int pid)
    {
        var clock = Stopwatch.StartNew();
        while (IsRunning(pid) && clock.Elapsed < TimeSpan.FromSeconds(3))
        {
            await Task.Delay(50);
        }
        return IsRunning(pid);
    }

    private static bool IsRunning(int pid)
    {
        // Killed but not yet reaped shows as a zombie; that is not running.
        var stat = $"/proc/{pid}/stat";
        return File.Exists(stat) && !File.ReadAllText(stat).Contains(") Z ", StringComparison.Ordinal);
    }
}
