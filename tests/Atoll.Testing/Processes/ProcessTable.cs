using System.Globalization;
using System.Text;

namespace Atoll.Testing.Processes;

/// <summary>
/// Looks at every process of the machine through <c>/proc</c>, to find processes a test did not start itself
/// (the children of <c>atoll up</c>) and to prove none is left behind.
/// </summary>
public static class ProcessTable
{
    /// <summary>
    /// Ids of live processes whose command line (arguments joined by spaces) contains <paramref name="fragment"/>,
    /// excluding this process. Zombies have an empty command line and are never returned.
    /// </summary>
    public static IReadOnlyList<int> FindByCommandLine(string fragment)
    {
        ArgumentException.ThrowIfNullOrEmpty(fragment);
        var self = Environment.ProcessId;
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == self)
            {
                continue;
            }
            if (CommandLine(pid) is { } line && line.Contains(fragment, StringComparison.Ordinal))
            {
                found.Add(pid);
            }
        }
        return found;
    }

    /// <summary>The command line of <paramref name="pid"/> with its NUL separators turned into spaces, or null if it is gone.</summary>
    public static string? CommandLine(int pid)
    {
        try
        {
            var bytes = File.ReadAllBytes($"/proc/{pid}/cmdline");
            return bytes.Length == 0 ? null : Encoding.UTF8.GetString(bytes).TrimEnd('\0').Replace('\0', ' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The process ended between listing /proc and reading it, or belongs to someone else.
            return null;
        }
    }

    /// <summary>"pid: command line" for each pid, one per line, for failure messages.</summary>
    public static string Describe(IEnumerable<int> pids) =>
        string.Join('\n', pids.Select(p => $"{p}: {CommandLine(p) ?? "(gone)"}"));
}
