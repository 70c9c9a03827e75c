using System.CommandLine;
using Atoll.Cli.Client;
using Atoll.Cli.Output;
using Atoll.Core.Contracts;
using Spectre.Console;

namespace Atoll.Cli.Commands;

/// <summary><c>atoll nodes</c>, <c>atoll nodes describe NAME</c>, <c>atoll nodes delete NAME</c>.</summary>
internal static class NodesCommand
{
    private sealed record NodeList(List<NodeView> Items);

    public static Command Create()
    {
        var output = OutputFormat.CreateOption();
        var nodes = new Command("nodes", "List the nodes of the fleet with their GPUs and conditions") { output };
        Actions.Set(nodes, async (result, ct) =>
        {
            using var client = ClientSettings.CreateClient(result);
            if (result.GetValue(output) == OutputFormat.Json)
            {
                OutputFormat.WriteJson(await client.GetJsonAsync("api/v1/nodes", ct).ConfigureAwait(false));
                return 0;
            }
            var list = await client.GetAsync<NodeList>("api/v1/nodes", ct).ConfigureAwait(false);
            if (list.Items.Count == 0)
            {
                Console.WriteLine("No nodes yet. Join one with: atoll agent --server URL --join-token $(atoll tokens create -q)");
                return 0;
            }
            var endpoints = await client.GetAsync<ItemList<EndpointView>>("api/v1/endpoints", ct).ConfigureAwait(false);
            AnsiConsole.Write(NodeRendering.List(list.Items, DateTimeOffset.UtcNow, endpoints.Items));
            return 0;
        });
        nodes.Subcommands.Add(Describe());
        nodes.Subcommands.Add(Delete());
        return nodes;
    }

    private static Command Describe()
    {
        var name = new Argument<string>("name") { Description = "node name" };
        var output = OutputFormat.CreateOption();
        var command = new Command("describe", "Show one node: labels, conditions with reasons, GPUs, model endpoints") { name, output };
        Actions.Set(command, async (result, ct) =>
        {
            using var client = ClientSettings.CreateClient(result);
            var path = $"api/v1/nodes/{Uri.EscapeDataString(result.GetValue(name)!)}";
            if (result.GetValue(output) == OutputFormat.Json)
            {
                OutputFormat.WriteJson(await client.GetJsonAsync(path, ct).ConfigureAwait(false));
                return 0;
            }
            var node = await client.GetAsync<NodeView>(path, ct).ConfigureAwait(false);
            var endpoints = await client.GetAsync<ItemList<EndpointView>>("api/v1/endpoints", ct).ConfigureAwait(false);
            NodeRendering.Describe(AnsiConsole.Console, node, DateTimeOffset.UtcNow, endpoints.Items);
            return 0;
        });
        return command;
    }

    private static Command Delete()
    {
        var name = new Argument<string>("name") { Description = "node name" };
        var command = new Command("delete", "Remove a node from the registry and revoke its credential (its agent stops)") { name };
        Actions.Set(command, async (result, ct) =>
        {
            using var client = ClientSettings.CreateClient(result);
            var node = result.GetValue(name)!;
            await client.DeleteAsync($"api/v1/nodes/{Uri.EscapeDataString(node)}", ct).ConfigureAwait(false);
            Console.WriteLine($"node/{node} deleted; its credential is revoked");
            return 0;
        });
        return command;
    }
}
