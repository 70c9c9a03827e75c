using Atoll.Storage.Objects;
using Atoll.Testing;

namespace Atoll.Storage.Tests.Objects;

/// <summary>One object store of a kind (<see cref="ObjectStores"/>) in a fresh data dir (and bucket) for one test.</summary>
internal sealed class TestObjectStore : IAsyncDisposable
{
    public static readonly Uri PublicBaseUrl = new("http://127.0.0.1:7070/");

    private TestObjectStore(string kind, IObjectStore store, string url, string dataDir)
    {
        Kind = kind;
        Store = store;
        Url = url;
        DataDir = dataDir;
    }

    public string Kind { get; }

    public IObjectStore Store { get; }

    public string Url { get; }

    public string DataDir { get; }

    public static async Task<TestObjectStore> CreateAsync(string kind, int? partSizeMiB = null, TimeProvider? time = null)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "atoll-objects-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dataDir);
        var (store, url) = await ObjectStores.OpenNewAsync(kind, dataDir, PublicBaseUrl, time, partSizeMiB);
        return new TestObjectStore(kind, store, url, dataDir);
    }

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        if (Directory.Exists(DataDir))
        {
            Directory.Delete(DataDir, recursive: true);
        }
    }
}
