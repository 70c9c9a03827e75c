using Atoll.Testing.Processes;

namespace Atoll.System.Tests;

/// <summary>An agent's life against a real server: joining, restarting, being deleted, being refused.</summary>
[Collection(SharedServerCollection.Name)]
public sealed class AgentLifecycleTests(SharedServerFixture fixture)
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(30);

    private RunningServer Server => fixture.Server;

    [Fact]
    public async Task Agent_restart_reuses_its_credential_without_a_join_token()
    {
        var state = fixture.NewDirectory("restart-n1");
        var token = await Server.CreateJoinTokenAsync(uses: 1);

        NodeJson beforeStop;
        await using (var first = Server.StartAgent("restart-n1", state, token, "--gpus", "2xH100-80GB"))
        {
            beforeStop = await Server.WaitReadyAsync("restart-n1", first); // and the agent saved its credential
            first.SendSignal(Signals.Terminate);
            Assert.Equal(0, await first.WaitForExitAsync(ExitTimeout));
        }
        var credential = Path.Combine(state, "credential.json");
        Assert.True(File.Exists(credential), $"{credential} was not written");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(credential));
        var stoppedAt = (await Server.GetNodeAsync("restart-n1"))!.LastHeartbeatAt;
        Assert.True(stoppedAt >= beforeStop.LastHeartbeatAt);

        // The join token had one use and it is spent: only the saved credential can bring the node back.
        await using var second = Server.StartAgent("restart-n1", state, joinToken: null, "--gpus", "2xH100-80GB");
        var back = await Server.WaitForNodeAsync("restart-n1",
            n => n.LastHeartbeatAt > stoppedAt && n.Status("Ready") == "True",
            $"heartbeats again after {stoppedAt:O}", TimeSpan.FromSeconds(45), second);
        Assert.Equal(2, back.Gpus.Count);
        Assert.Contains("Using the saved credential of node restart-n1", second.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Registered as node", second.Output, StringComparison.Ordinal);
        Assert.False(second.HasExited, $"the restarted agent exited:\n{second.Tail()}");
    }

    [Fact]
    public async Task Deleted_node_agent_stops_with_a_clear_line()
    {
        var state = fixture.NewDirectory("doomed-n1");
        await using var agent = Server.StartAgent("doomed-n1", state, await Server.CreateJoinTokenAsync(uses: 1), "--gpus", "1xA100-40GB");
        await Server.WaitReadyAsync("doomed-n1", agent);

        var delete = await Server.CliAsync("nodes", "delete", "doomed-n1");
        Assert.True(delete.ExitCode == 0, delete.ToString());
        Assert.Contains("node/doomed-n1 deleted", delete.StandardOutput, StringComparison.Ordinal);

        Assert.Equal(3, await agent.WaitForExitAsync(ExitTimeout));
        Assert.Contains("removed from the control plane", agent.Output, StringComparison.Ordinal);
        Assert.Null(await Server.GetNodeAsync("doomed-n1"));
    }

    [Fact]
    public async Task Used_up_join_token_is_refused_with_a_clear_reason()
    {
        var token = await Server.CreateJoinTokenAsync(uses: 1);
        await using var first = Server.StartAgent("once-n1", fixture.NewDirectory("once-n1"), token, "--gpus", "1xL40S-48GB");
        await Server.WaitReadyAsync("once-n1", first);

        await using var second = Server.StartAgent("once-n2", fixture.NewDirectory("once-n2"), token, "--gpus", "1xL40S-48GB");
        Assert.Equal(2, await second.WaitForExitAsync(ExitTimeout));
        Assert.Contains("no uses left", second.Output, StringComparison.Ordinal);
        Assert.Null(await Server.GetNodeAsync("once-n2"));
        Assert.False(first.HasExited, $"the first agent exited:\n{first.Tail()}");
    }
}
