using System.CommandLine;
using System.Runtime.InteropServices;
using Atoll.Cli.Client;
using Atoll.Cli.Commands;
using Atoll.Server;
using Spectre.Console;

if (ServerProcess.RunsServer(args))
{
    ServerProcess.PrepareRuntime(); // before the first socket
}

var root = new RootCommand("Atoll: one fleet of GPU nodes across many clouds, serving chat and batch inference")
{
    ClientSettings.Server,
    ClientSettings.Token,
};
root.Subcommands.Add(UpCommand.Create());
root.Subcommands.Add(ServerCommand.Create());
root.Subcommands.Add(AgentCommand.Create());
root.Subcommands.Add(NodesCommand.Create());
root.Subcommands.Add(EndpointsCommand.Create());
root.Subcommands.Add(ApplyCommand.Create());
root.Subcommands.Add(GetCommand.Create());
root.Subcommands.Add(DeleteCommand.Create());
root.Subcommands.Add(OffersCommand.Create());
root.Subcommands.Add(CostCommand.Create());
root.Subcommands.Add(TokensCommand.Create());
root.Subcommands.Add(KeysCommand.Create());
root.Subcommands.Add(ChatCommand.Create());
root.Subcommands.Add(BatchCommand.Create());
root.Subcommands.Add(SimCommand.Create());
root.Subcommands.Add(VersionCommand.Create());

// Piped output (scripts, `| less`) gets wide tables instead of wrapped 80-column ones.
if (Console.IsOutputRedirected)
{
    AnsiConsole.Profile.Width = 250;
}

// First SIGINT/SIGTERM asks for a clean stop (children, leases, sockets); a second one ends the process at once.
using var stopping = new CancellationTokenSource();
void OnSignal(PosixSignalContext context)
{
    if (!stopping.IsCancellationRequested)
    {
        context.Cancel = true;
        stopping.Cancel();
    }
}
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, stopping.Token);
