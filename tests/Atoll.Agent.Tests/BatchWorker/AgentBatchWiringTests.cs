using Atoll.Agent.BatchWorker;
using Atoll.Agent.Gpu;
using Atoll.Agent.Registration;
using Atoll.Core.Contracts;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atoll.Agent.Tests.BatchWorker;

public sealed class AgentBatchWiringTests : IAsyncLifetime
{
    private readonly string stateDir = Path.Combine(Path.GetTempPath(), "atoll-agent-batch-" + Guid.NewGuid().ToString("N")[..8]);
    private FakeLeaseServer leases = null!;
    private FakeModelServer model = null!;

    public async Task InitializeAsync()
    {
        leases = await FakeLeaseServer.StartAsync();
        model = await FakeModelServer.StartAsync();
        leases.Input = WorkerRun.Input(4);
        CredentialFile.Save(stateDir, new AgentCredential("http://control.test/", "n1", FakeLeaseServer.Credential));
    }

    public async Task DisposeAsync()
    {
        await leases.DisposeAsync();
        await model.DisposeAsync();
        if (Directory.Exists(stateDir))
        {
            Directory.Delete(stateDir, true);
        }
    }

    [Fact]
    public async Task The_agent_works_batch_leases_beside_its_heartbeats_and_stops_both_together()
    {
        leases.Offer("batch_a", 1, first: 0, count: 4);
        var heartbeats = new FakeControlPlane();
        var (exit, stillRunning) = await RunAgentAsync(heartbeats, () => leases.BodiesOf("complete").Any() && heartbeats.Heartbeats >= 3);
        Assert.True(stillRunning);
        Assert.Equal(AgentExitCodes.Ok, exit);
        Assert.Single(leases.BodiesOf("complete"));
    }

    [Fact]
    public async Task A_refused_lease_poll_stops_only_the_batch_worker_not_the_heartbeats()
    {
        leases.FailPollsWith = 401;
        leases.FailPollsFor = 1000;
        var heartbeats = new FakeControlPlane();
        var (exit, stillRunning) = await RunAgentAsync(heartbeats, () => leases.Polls >= 1 && heartbeats.Heartbeats >= 5);
        Assert.True(stillRunning, "the agent must keep heartbeating");
        Assert.Equal(AgentExitCodes.Ok, exit);
        Assert.Equal(1, leases.Polls);
    }

    private async Task<(int Exit, bool StillRunning)> RunAgentAsync(FakeControlPlane heartbeats, Func<bool> done)
    {
        var options = WorkerRun.Options(leases, model);
        options = new AgentOptions
        {
            Server = new Uri("http://control.test/"),
            Name = "n1",
            StateDir = stateDir,
            Models = options.Models,
            HeartbeatInterval = TimeSpan.FromMilliseconds(20),
            InitialBackoff = options.InitialBackoff,
            MaxBackoff = options.MaxBackoff,
            BatchRetryDelay = options.BatchRetryDelay,
            LeaseWaitSeconds = 1,
            LeaseHeartbeatInterval = options.LeaseHeartbeatInterval,
        };
        using var http = new HttpClient(heartbeats) { BaseAddress = options.Server };
        using var leaseHttp = new HttpClient { BaseAddress = leases.Address, Timeout = Timeout.InfiniteTimeSpan };
        using var plain = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var batch = BatchWorkerSupervisor.Create(options, leaseHttp, plain, TimeProvider.System, NullLoggerFactory.Instance);
        var runner = new AgentRunner(options, new SimulatedGpuProbe(GpuReport.None), new ControlPlaneClient(http), TimeProvider.System,
            NullLogger<AgentRunner>.Instance, batch);
        using var cts = new CancellationTokenSource();
        var run = runner.RunAsync(cts.Token);
        await WorkerRun.EventuallyAsync(() => run.IsCompleted || done());
        var stillRunning = !run.IsCompleted;
        await cts.CancelAsync();
        return (await run, stillRunning);
    }
}
