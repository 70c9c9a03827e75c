namespace Atoll.Testing.Processes;

/// <summary>How a process that ran to completion ended, and what it printed.</summary>
public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>Standard output and standard error, in that order.</summary>
    public string Output => StandardOutput + StandardError;

    public override string ToString() =>
        $"exit code {ExitCode}\n--- stdout ---\n{StandardOutput}--- stderr ---\n{StandardError}";
}
