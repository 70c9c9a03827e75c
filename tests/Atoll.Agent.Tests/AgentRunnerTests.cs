using System.Text.Json;
using Atoll.Agent.Gpu;
using Atoll.Agent.Registration;
using Atoll.Core.Contracts;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atoll.Agent.Tests;

public sealed class AgentRunnerTests : IDisposable
{
    private readonly string stateDir = Path.Combine(Path.GetTempPath(), "atoll-agent-test-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(stateDir))
        {
            Directory.Delete(stateDir, true);
        }
    }

    [Fact]
    public async Task Registers_once_saves_the_credential_privately_and_reuses_it_after_a_restart()
    {
        var server = new FakeControlPlane();
        var (exit, _) = await RunUntilAsync(server, Options(joinToken: "atoll_join_x"), () => server.Heartbeats >= 2);
        Assert.Equal(AgentExitCodes.Ok, exit);
        Assert.Equal(1, server.Registrations);
        Assert.Equal("atoll_join_x", server.Calls.First().Bearer);
        Assert.All(server.Calls.Skip(1), c => Assert.Equal("atoll_node_secret", c.Bearer));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(CredentialFile.PathIn(stateDir)));

        var restarted = new FakeControlPlane();
        (exit, _) = await RunUntilAsync(restarted, Options(joinToken: null), () => restarted.Heartbeats >= 1);
        Assert.Equal(AgentExitCodes.Ok, exit);
        Assert.Equal(0, restarted.Registrations);
    }

    [Fact]
    public async Task Retries_after_a_lost_registration_answer_carry_the_same_private_key_across_restarts()
    {
        // Every answer is lost: the agent keeps retrying, then is stopped before it ever holds a credential.
        var lossy = new FakeControlPlane { LoseRegisterAnswers = int.MaxValue };
        await RunUntilAsync(lossy, Options(joinToken: "atoll_join_x"), () => lossy.Registrations >= 3);
        Assert.False(File.Exists(CredentialFile.PathIn(stateDir)));
        var keyFile = RegistrationKeyFile.PathIn(stateDir);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        var key = File.ReadAllText(keyFile);
        Assert.Equal(64, key.Length);

        // Restarted, it registers with the same key: the server can tell it is the agent whose answer it lost.
        var server = new FakeControlPlane();
        await RunUntilAsync(server, Options(joinToken: "atoll_join_x"), () => server.Heartbeats >= 1);
        Assert.All(lossy.Calls.Concat(server.Calls).Where(c => c.Path.EndsWith("register", StringComparison.Ordinal)),
            c => Assert.Equal(key, JsonDocument.Parse(c.Body).RootElement.GetProperty("registrationKey").GetString()));
        Assert.True(File.Exists(CredentialFile.PathIn(stateDir)));
    }

    [Fact]
    public async Task Keeps_retrying_while_the_server_is_unreachable_and_recovers()
    {
        var server = new FakeControlPlane();
        CredentialFile.Save(stateDir, new AgentCredential("http://control.test/", "n1", "atoll_node_secret"));
        server.UnreachableFor = 5;
        var (exit, stillRunning) = await RunUntilAsync(server, Options(joinToken: null), () => server.Heartbeats >= 8);
        Assert.True(stillRunning, "the agent must not exit because the server was away");
        Assert.Equal(AgentExitCodes.Ok, exit);
        Assert.Equal(0, server.UnreachableFor);
    }

    [Fact]
    public async Task Stops_with_exit_code_3_when_its_node_was_deleted()
    {
        var server = new FakeControlPlane { Revoked = true };
        CredentialFile.Save(stateDir, new AgentCredential("http://control.test/", "n1", "atoll_node_secret"));
        var (exit, stillRunning) = await RunUntilAsync(server, Options(joinToken: null), () => false);
        Assert.False(stillRunning);
        Assert.Equal(AgentExitCodes.Revoked, exit);
        Assert.Equal(1, server.Heartbeats);
    }

    [Fact]
    public async Task Refused_join_token_or_none_at_all_stops_with_exit_code_2()
    {
        var server = new FakeControlPlane { RegisterStatus = System.Net.HttpStatusCode.Unauthorized };
        Assert.Equal(AgentExitCodes.Config, (await RunUntilAsync(server, Options(joinToken: "atoll_join_used"), () => false)).Exit);
        Assert.Equal(1, server.Registrations);
        Assert.False(File.Exists(CredentialFile.PathIn(stateDir)));

        var none = new FakeControlPlane();
        Assert.Equal(AgentExitCodes.Config, (await RunUntilAsync(none, Options(joinToken: null), () => false)).Exit);
        Assert.Empty(none.Calls);
    }

    [Fact]
    public async Task Heartbeats_carry_the_gpu_report_and_models()
    {
        var server = new FakeControlPlane();
        var broken = new GpuReport([], false, "DriverLibraryMismatch", "Failed to initialize NVML: Driver/library version mismatch");
        await RunUntilAsync(server, Options(joinToken: "atoll_join_x"), () => server.Heartbeats >= 1, broken);
        var heartbeat = server.Calls.First(c => c.Path.EndsWith("heartbeat", StringComparison.Ordinal)).Body;
        Assert.Contains("\"reason\":\"DriverLibraryMismatch\"", heartbeat);
        Assert.Contains("\"healthy\":false", heartbeat);
        Assert.Contains("\"url\":\"http://127.0.0.1:8000\"", heartbeat);
    }

    private AgentOptions Options(string? joinToken) => new()
    {
        Server = new Uri("http://control.test/"),
        JoinToken = joinToken,
        Name = "n1",
        StateDir = stateDir,
        Models = [new ModelEndpoint("llama", "http://127.0.0.1:8000")],
        HeartbeatInterval = TimeSpan.FromMilliseconds(20),
        InitialBackoff = TimeSpan.FromMilliseconds(10),
        MaxBackoff = TimeSpan.FromMilliseconds(40),
    };

    /// <summary>Runs the agent until <paramref name="done"/> holds (then stops it) or it exits by itself.</summary>
    private static async Task<(int Exit, bool StillRunning)> RunUntilAsync(
        FakeControlPlane server, AgentOptions options, Func<bool> done, GpuReport? gpu = null)
    {
        using var http = new HttpClient(server) { BaseAddress = options.Server };
        var runner = new AgentRunner(options, new SimulatedGpuProbe(gpu ?? GpuReport.None), new ControlPlaneClient(http),
            TimeProvider.System, NullLogger<AgentRunner>.Instance);
        using var cts = new CancellationTokenSource();
        var run = runner.RunAsync(cts.Token);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!run.IsCompleted && !done() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
        var stillRunning = !run.IsCompleted;
        await cts.CancelAsync();
        return (await run, stillRunning);
    }
}
