using System.Runtime.Versioning;

namespace Atoll.Agent.Tests.Gpu;

/// <summary>A temp directory of shell scripts that stand in for nvidia-smi (no GPU driver exists here).</summary>
[UnsupportedOSPlatform("windows")]
internal sealed class FakeNvidiaSmiDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("atoll-fake-nvidia-smi-").FullName;

    /// <summary>Writes an executable <c>/bin/sh</c> script and returns its path.</summary>
    public string Script(string name, string body)
    {
        var path = System.IO.Path.Combine(Path, name);
        File.WriteAllText(path, "#!/bin/sh\n" + body.ReplaceLineEndings("\n") + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
