using System.Text.RegularExpressions;
using Atoll.Testing.Processes;

namespace Atoll.System.Tests.Fleet;

/// <summary>
/// Plays the part of the VMs a stand-in provider "creates": for each new instance, reads the join token, node name
/// and labels out of the bootstrap Atoll rendered for it (cloud-init user data or a startup script) and starts
/// <c>atoll agent</c> with them, as the systemd unit on a real VM would. Killing one is a VM that died.
/// </summary>
internal sealed class BootedVms(string serverUrl, string stateRoot) : IAsyncDisposable
{
    private readonly Dictionary<string, AtollProcess> agents = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Booted => agents.Keys;

    /// <summary>Boots instance <paramref name="id"/> from its bootstrap text, once.</summary>
    public void Boot(string id, string? bootstrap, string gpus)
    {
        if (agents.ContainsKey(id) || bootstrap is null)
        {
            return;
        }
        var token = Value(bootstrap, "ATOLL_JOIN_TOKEN");
        var name = Value(bootstrap, "ATOLL_NODE_NAME");
        var provider = Value(bootstrap, "ATOLL_PROVIDER");
        var capacity = Value(bootstrap, "ATOLL_CAPACITY_TYPE");
        var region = Value(bootstrap, "ATOLL_REGION");
        agents[id] = AtollCli.Start(
        [
            "agent", "--server", serverUrl, "--join-token", token, "--name", name, "--provider", provider, "--region", region,
            "--capacity-type", capacity, "--gpus", gpus, "--state", Path.Combine(stateRoot, name), "--heartbeat-interval", "1s",
        ], logPath: Path.Combine(stateRoot, name + ".log"));
    }

    /// <summary>The VM dies: its agent is killed without a word.</summary>
    public async Task KillAsync(string id)
    {
        if (agents.Remove(id, out var agent))
        {
            agent.SendSignal(Signals.Kill);
            await agent.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in agents.Values)
        {
            await agent.DisposeAsync();
        }
        agents.Clear();
    }

    private static string Value(string bootstrap, string variable)
    {
        var match = Regex.Match(bootstrap, variable + "=\"([^\"]*)\"");
        Assert.True(match.Success, $"the bootstrap does not set {variable}:\n{bootstrap}");
        return match.Groups[1].Value;
    }
}
