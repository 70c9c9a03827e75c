using Atoll.Testing.Processes;

namespace Atoll.System.Tests;

/// <summary>One <c>atoll server</c> for the tests of the <see cref="SharedServerCollection"/>; each test uses its own node names.</summary>
public sealed class SharedServerFixture : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory dir = new("shared");
    private RunningServer? server;

    internal RunningServer Server => server ?? throw new InvalidOperationException("the shared server has not started");

    /// <summary>A fresh directory under the fixture's temp dir, e.g. for one agent's state.</summary>
    internal string NewDirectory(string name)
    {
        var path = dir.Combine($"{name}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(path);
        return path;
    }

    public async Task InitializeAsync() =>
        server = await RunningServer.StartAsync(dir.Combine("server"), FreePorts.Next(), dir.Combine("server.log"));

    public async Task DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
        }
    }

    /// <summary>Runs after <see cref="DisposeAsync"/>, once the server no longer writes into the directory.</summary>
    public void Dispose() => dir.Dispose();
}
