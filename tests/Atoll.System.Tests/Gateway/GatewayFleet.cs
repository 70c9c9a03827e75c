using Atoll.Testing.Processes;

namespace Atoll.System.Tests.Gateway;

/// <summary>
/// Some <c>atoll sim</c> processes (all serving <see cref="Chat.Model"/>) and one <c>atoll server</c> routing to
/// them. Disposing kills every process, whatever state the test left them in.
/// </summary>
/// <remarks>
/// The first sim is a static endpoint (<c>--endpoint m=URL</c>); the others are reported by one agent each
/// (<c>atoll agent --model m=URL</c>), because <c>atoll server</c> refuses a second <c>--endpoint</c> for the
/// same model ("invalid --endpoint: 'm' given twice", KeyValues.Parse in ServerCommand). Both are ways users
/// register endpoints, so between them the tests cover both.
/// </remarks>
internal sealed class GatewayFleet : IAsyncDisposable
{
    private readonly List<AtollProcess> agents;

    private GatewayFleet(IReadOnlyList<RunningSim> sims, GatewayServer server, List<AtollProcess> agents)
    {
        Sims = sims;
        Server = server;
        this.agents = agents;
    }

    public IReadOnlyList<RunningSim> Sims { get; }

    public GatewayServer Server { get; }

    /// <summary>
    /// Starts one sim per entry of <paramref name="simArguments"/> (named s1, s2, ...; the entry holds its extra
    /// flags), then the server with <paramref name="serverArguments"/> and the agents, and waits until every
    /// endpoint is routable.
    /// </summary>
    public static async Task<GatewayFleet> StartAsync(TempDirectory dir, IReadOnlyList<string[]> simArguments, params string[] serverArguments)
    {
        // Sims and server start side by side (cold starts are most of a test's time); the server probes the sim
        // until it is up.
        var sims = simArguments.Select((extra, i) => RunningSim.Start(Chat.Model, $"s{i + 1}", dir.Path, extra)).ToList();
        GatewayServer? server = null;
        var agents = new List<AtollProcess>();
        try
        {
            var starting = GatewayServer.StartAsync(dir.Combine("server"), sims.Take(1).ToList(), serverArguments);
            try
            {
                await Task.WhenAll(sims.Select(s => s.WaitHealthyAsync()));
            }
            finally
            {
                // Whatever happened to the sims, the server must not be left running unowned.
                server = await starting;
            }
            for (var i = 1; i < sims.Count; i++)
            {
                agents.Add(await server.StartAgentAsync($"node-{sims[i].Instance}", sims[i], dir.Combine($"agent-{sims[i].Instance}")));
            }
            await server.WaitEndpointsUpAsync(sims.Count, TimeSpan.FromSeconds(45));
            return new GatewayFleet(sims, server, agents);
        }
        catch
        {
            await DisposeAllAsync(agents, server, sims);
            throw;
        }
    }

    public ValueTask DisposeAsync() => DisposeAllAsync(agents, Server, Sims);

    private static async ValueTask DisposeAllAsync(List<AtollProcess> agents, GatewayServer? server, IReadOnlyList<RunningSim> sims)
    {
        foreach (var agent in agents)
        {
            await agent.DisposeAsync();
        }
        if (server is not null)
        {
            await server.DisposeAsync();
        }
        foreach (var sim in sims)
        {
            await sim.DisposeAsync();
        }
    }
}
