namespace Atoll.System.Tests;

/// <summary>A unique directory under the system temp dir, deleted (with everything in it) on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory(string purpose)
    {
        Path = global::System.IO.Path.Combine(global::System.IO.Path.GetTempPath(), $"atoll-systest-{purpose}-{Guid.NewGuid().ToString("N")[..12]}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => global::System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A process killed a moment ago may still be closing a file in it; the OS cleans temp dirs.
        }
    }
}
