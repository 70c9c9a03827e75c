using Atoll.Testing.Processes;

namespace Atoll.System.Tests;

/// <summary>The atoll binary built next to this test assembly, run as a real process.</summary>
internal static class AtollCli
{
    /// <summary>Long enough for a cold <c>dotnet atoll.dll</c> start on a busy 2-core machine.</summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    public static string Dll { get; } = Path.Combine(AppContext.BaseDirectory, "atoll.dll");

    public static AtollProcess Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null, string? logPath = null) =>
        AtollProcess.Start(Dll, arguments, environment, logPath);

    /// <summary>Runs one command to completion.</summary>
    public static Task<ProcessResult> RunAsync(params string[] arguments) =>
        AtollProcess.RunAsync(Dll, arguments, CommandTimeout);

    public static Task<ProcessResult> RunAsync(IReadOnlyDictionary<string, string?> environment, params string[] arguments) =>
        AtollProcess.RunAsync(Dll, arguments, CommandTimeout, environment);
}
