using System.Runtime.InteropServices;

namespace FleetBench;

/// <summary>
/// CPU time of the calling thread (Linux <c>CLOCK_THREAD_CPUTIME_ID</c>): unlike wall time it does not grow while the
/// thread waits for a core, so on a busy shared machine it shows what a decision costs apart from the queueing.
/// </summary>
internal static class ThreadClock
{
    private const int ClockThreadCpuTimeId = 3;

    public static double NowMs()
    {
        return clock_gettime(ClockThreadCpuTimeId, out var t) == 0 ? t.Seconds * 1000.0 + t.Nanoseconds / 1_000_000.0 : double.NaN;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    // DllImport rather than LibraryImport: the source-generated form needs unsafe code for one blittable struct.
#pragma warning disable SYSLIB1054
    [DllImport("libc", EntryPoint = "clock_gettime")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int clock_gettime(int clock, out TimeSpec time);
#pragma warning restore SYSLIB1054
}
