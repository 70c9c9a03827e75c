using Atoll.Storage.State;

namespace Atoll.Server;

/// <summary>
/// Held by a running server on its data directory for as long as it runs (an advisory lock on
/// <c>DATA/server.lock</c>, released by the kernel if the process dies). A second server on the same directory would
/// share its SQLite store, batch files and admin token, and both would provision nodes for the same pools; it is
/// refused before it opens anything.
/// </summary>
internal sealed class DataDirLock : IDisposable
{
    public const string FileName = "server.lock";

    private readonly FileStream file;

    private DataDirLock(FileStream file) => this.file = file;

    /// <summary>Takes the lock, or throws <see cref="StoreUnavailableException"/> saying which directory is in use.</summary>
    public static DataDirLock Acquire(string dataDir)
    {
        var path = Path.Combine(dataDir, FileName);
        try
        {
            // FileShare.None is an exclusive flock on Unix: another process that asks for it fails at once.
            return new DataDirLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException e)
        {
            throw new StoreUnavailableException(
                $"the data directory {dataDir} is in use by another atoll server (it holds {path}): stop that server, or give this one another --data",
                e);
        }
    }

    public void Dispose() => file.Dispose();
}
