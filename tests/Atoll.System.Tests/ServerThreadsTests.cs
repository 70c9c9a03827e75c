namespace Atoll.System.Tests;

/// <summary>
/// The gateway runs on the runtime's socket event threads; <c>atoll server</c> asks for one per core before its
/// first socket (the runtime's own default would be one for up to 30 cores).
/// </summary>
[Collection(SharedServerCollection.Name)]
public sealed class ServerThreadsTests(SharedServerFixture shared)
{
    [Fact]
    public async Task Server_runs_one_socket_event_thread_per_core()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // thread names are read from /proc
        }
        var expected = int.TryParse(Environment.GetEnvironmentVariable(Atoll.Server.ServerProcess.SocketThreadsVariable), out var set)
            ? set
            : Environment.ProcessorCount;
        // Event threads start as sockets are handed out to them in turn: a few fresh connections reach every one.
        for (var i = 0; i < 2 * expected; i++)
        {
            using var http = new HttpClient();
            using var _ = await http.GetAsync($"{shared.Server.Url}/readyz");
        }

        var names = Directory.GetDirectories($"/proc/{shared.Server.Process.Id}/task")
            .Select(task => File.Exists(Path.Combine(task, "comm")) ? File.ReadAllText(Path.Combine(task, "comm")).Trim() : "")
            .ToList();

        Assert.True(expected == names.Count(n => n == ".NET Sockets"),
            $"expected {expected} '.NET Sockets' threads; the server's threads: {string.Join(", ", names.Order())}");
    }
}
