using System.CommandLine;
using System.Text.Json;
using Atoll.Cli.Client;
using Atoll.Cli.Output;
using Atoll.Core.Contracts;
using Spectre.Console;

namespace Atoll.Cli.Commands;

/// <summary><c>atoll cost</c>: what the fleet costs now and what it saves against on-demand prices.</summary>
internal static class CostCommand
{
    public static Command Create()
    {
        var output = OutputFormat.CreateOption();
        var command = new Command("cost", """
            Show what the running fleet costs per hour: per node, per pool and in total, with the saving against buying
            the same machines on demand, and the total per day and per month (730 h).

            Examples:
              atoll cost
              atoll cost -o json | jq .total.pricePerHour
            """)
        { output };
        Actions.Set(command, async (result, ct) =>
        {
            using var client = ClientSettings.CreateClient(result);
            var answer = await client.GetJsonAsync("api/v1/cost", ct).ConfigureAwait(false);
            if (result.GetValue(output) == OutputFormat.Json)
            {
                OutputFormat.WriteJson(answer);
                return 0;
            }
            CostRendering.Write(AnsiConsole.Console, answer.Deserialize<CostReport>(AtollApiClient.Json)!);
            return 0;
        });
        return command;
    }
}
