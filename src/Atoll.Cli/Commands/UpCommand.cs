using System.CommandLine;
using Atoll.Cli.Hosting;
using Atoll.Core;

namespace Atoll.Cli.Commands;

/// <summary><c>atoll up</c>: everything on one machine with embedded defaults.</summary>
internal static class UpCommand
{
    public const int MaxNodes = 64;

    public static Command Create()
    {
        var nodes = new Option<int>("--nodes") { Description = "number of simulated local GPU nodes", DefaultValueFactory = _ => 3 };
        var data = new Option<string>("--data") { Description = "data directory for the server, nodes, logs and the env file", DefaultValueFactory = _ => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".atoll") };
        var listen = new Option<string>("--listen") { Description = "server URL", DefaultValueFactory = _ => "http://127.0.0.1:7070" };
        var heartbeat = new Option<string>("--heartbeat-interval") { Description = "agent heartbeat interval (a node is not Ready after 3 missed)", DefaultValueFactory = _ => "5s" };
        var command = new Command("up", "Run a server and a local fleet of simulated GPU nodes, bought through a local provider and a default pool; Ctrl-C stops everything")
        {
            nodes, data, listen, heartbeat,
        };
        Actions.Set(command, async (result, ct) =>
        {
            var count = result.GetValue(nodes);
            if (count is < 0 or > MaxNodes)
            {
                throw new CliException($"invalid --nodes {count}: use 0 to {MaxNodes}");
            }
            if (!Uri.TryCreate(result.GetValue(listen), UriKind.Absolute, out var listenUri) || listenUri.Scheme != "http")
            {
                throw new CliException($"invalid --listen '{result.GetValue(listen)}': expected e.g. http://127.0.0.1:7070");
            }
            var interval = result.GetValue(heartbeat)!;
            Durations.Parse(interval, "--heartbeat-interval");
            await using var fleet = new LocalFleet(Path.GetFullPath(result.GetValue(data)!), listenUri, count, interval);
            return await fleet.RunAsync(ct).ConfigureAwait(false);
        });
        return command;
    }
}
