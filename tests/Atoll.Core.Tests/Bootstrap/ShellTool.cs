using System.Diagnostics;

namespace Atoll.Core.Tests.Bootstrap;

/// <summary>Runs the external checkers (bash, shellcheck, cloud-init) the bootstrap tests prove the output against.</summary>
internal static class ShellTool
{
    public static readonly string ShellCheck = "/usr/bin/shellcheck";
    public static readonly string CloudInit = "/usr/bin/cloud-init";
    public static readonly string Bash = "/bin/bash";

    /// <summary>Runs <paramref name="file"/> with arguments; a missing tool fails the test with its path.</summary>
    public static (int ExitCode, string Output) Run(string file, IEnumerable<string> arguments, string? stdin = null)
    {
        Assert.True(File.Exists(file), $"{file} is not installed (test.sh installs it)");
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), $"{file} did not finish within 60 s");
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>A temp file holding <paramref name="content"/>, deleted when disposed.</summary>
    public static TempFile Write(string content, string extension) => new(content, extension);

    internal sealed class TempFile : IDisposable
    {
        public TempFile(string content, string extension)
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"atoll-bootstrap-{Guid.NewGuid():N}{extension}");
            File.WriteAllText(Path, content);
        }

        public string Path { get; }

        public void Dispose() => File.Delete(Path);
    }
}
