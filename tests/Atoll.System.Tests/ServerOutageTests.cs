using Atoll.Testing.Processes;

namespace Atoll.System.Tests;

/// <summary>The control plane restarting does not take the fleet down: agents retry and report again.</summary>
public sealed class ServerOutageTests
{
    [Fact]
    public async Task Agent_survives_server_outage_and_reports_again()
    {
        using var dir = new TempDirectory("outage");
        var data = dir.Combine("server");
        var port = FreePorts.Next();
        AtollProcess agent;
        var server = await RunningServer.StartAsync(data, port, dir.Combine("server-1.log"));
        var token = server.AdminToken;
        await using (agent = server.StartAgent("outage-n1", dir.Combine("outage-n1"), await server.CreateJoinTokenAsync(uses: 1), "--gpus", "2xH100-80GB"))
        {
            try
            {
                await server.WaitReadyAsync("outage-n1", agent);

                server.Process.SendSignal(Signals.Terminate);
                Assert.Equal(0, await server.Process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            }
            finally
            {
                await server.DisposeAsync();
            }
            var stoppedAt = DateTimeOffset.UtcNow;

            await agent.WaitForOutputAsync("Heartbeat failed", TimeSpan.FromSeconds(15));
            var waited = DateTimeOffset.UtcNow - stoppedAt;
            if (waited < TimeSpan.FromSeconds(3))
            {
                // The claim is "still running 3 s into the outage": nothing to poll for, so wait it out.
                await Task.Delay(TimeSpan.FromSeconds(3) - waited);
            }
            Assert.False(agent.HasExited, $"the agent exited during the outage with code {agent.ExitCode}:\n{agent.Tail()}");

            var restartedAt = DateTimeOffset.UtcNow;
            await using var again = await RunningServer.StartAsync(data, port, dir.Combine("server-2.log"));
            Assert.Equal(token, again.AdminToken);
            var node = await again.WaitForNodeAsync("outage-n1",
                n => n.LastHeartbeatAt > restartedAt && n.Status("Ready") == "True",
                $"heartbeats after the restart at {restartedAt:O} and is Ready=True", TimeSpan.FromSeconds(30), agent);

            Assert.Equal(2, node.Gpus.Count);
            Assert.False(agent.HasExited, $"the agent exited:\n{agent.Tail()}");
            await agent.WaitForOutputAsync("Control plane reachable again", TimeSpan.FromSeconds(5));
        }
    }
}
