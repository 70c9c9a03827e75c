using System.CommandLine;
using Atoll.Cli.Client;
using Atoll.Cli.Output;
using Atoll.Core.Contracts;
using Spectre.Console;

namespace Atoll.Cli.Commands;

/// <summary><c>atoll endpoints</c>: the model endpoints the gateway routes to, and why any of them gets no traffic.</summary>
internal static class EndpointsCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "only the endpoints of this model" };
        var output = OutputFormat.CreateOption();
        var command = new Command("endpoints", """
            List the model endpoints the gateway routes to (from nodes' agents and `atoll server --endpoint`), with their
            state: Up (takes traffic), Starting (no health probe passed yet), Unhealthy (the latest probe failed),
            Ejected (its requests failed; out until its cooldown ends) or NodeNotReady. REASON says what was seen;
            IN-FLIGHT is requests the gateway has there against its capacity; QUEUE is the model server's own queue.

            Examples:
              atoll endpoints
              atoll endpoints --model llama
              atoll endpoints -o json | jq '.items[] | select(.state != "Up") | {name, reason}'
            """)
        { model, output };
        Actions.Set(command, async (result, ct) =>
        {
            using var client = ClientSettings.CreateClient(result);
            var path = result.GetValue(model) is { } m ? $"api/v1/endpoints?model={Uri.EscapeDataString(m)}" : "api/v1/endpoints";
            if (result.GetValue(output) == OutputFormat.Json)
            {
                OutputFormat.WriteJson(await client.GetJsonAsync(path, ct).ConfigureAwait(false));
                return 0;
            }
            var list = await client.GetAsync<ItemList<EndpointView>>(path, ct).ConfigureAwait(false);
            if (list.Items.Count == 0)
            {
                Console.WriteLine(result.GetValue(model) is { } name
                    ? $"No endpoint serves '{name}'. See all with: atoll endpoints"
                    : "No model endpoints yet. Nodes report theirs with `atoll agent --model NAME=URL`; or use `atoll server --endpoint NAME=URL`.");
                return 0;
            }
            AnsiConsole.Write(EndpointRendering.List(list.Items, DateTimeOffset.UtcNow));
            return 0;
        });
        return command;
    }
}
