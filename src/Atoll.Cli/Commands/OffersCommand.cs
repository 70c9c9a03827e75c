using System.CommandLine;
using System.Text.Json;
using Atoll.Cli.Client;
using Atoll.Cli.Output;
using Atoll.Core.Contracts;
using Spectre.Console;

namespace Atoll.Cli.Commands;

/// <summary><c>atoll offers</c>: every way to buy a node across the configured providers, cheapest GPU-hour first.</summary>
internal static class OffersCommand
{
    public const int DefaultLimit = 30;

    /// <summary>The server-side filters of <c>GET /api/v1/offers</c>.</summary>
    internal sealed record Filter(string? Gpu = null, int? Count = null, bool Spot = false, string? Provider = null, string? Region = null, bool Refresh = false);

    public static Command Create()
    {
        var gpu = new Option<string?>("--gpu") { Description = "GPU model, e.g. H100, A100, L40S" };
        var count = new Option<int?>("--count") { Description = "GPUs per node, e.g. 8" };
        var spot = new Option<bool>("--spot") { Description = "spot (interruptible) offers only" };
        var provider = new Option<string?>("--provider") { Description = "offers of this Provider resource only" };
        var region = new Option<string?>("--region") { Description = "offers in this region only" };
        var refresh = new Option<bool>("--refresh") { Description = "fetch the providers' catalogs now instead of using the cached ones" };
        var limit = new Option<int>("--limit") { Description = "rows to show", DefaultValueFactory = _ => DefaultLimit };
        var output = OutputFormat.CreateOption();
        var command = new Command("offers", """
            List what the configured providers sell now, sorted by price per GPU-hour. Providers whose catalog cannot be read
            (a refused credential, an API error) are listed below the table with the reason; the others still show.

            Examples:
              atoll offers --gpu H100 --count 8
              atoll offers --spot --region us-east-1 --limit 10
              atoll offers --provider lambda --refresh -o json     # -o json prints every offer, not only --limit
            """)
        { gpu, count, spot, provider, region, refresh, limit, output };
        Actions.Set(command, async (result, ct) =>
        {
            var rows = result.GetValue(limit);
            if (rows < 1)
            {
                throw new CliException($"--limit must be at least 1 (got {rows})");
            }
            if (result.GetValue(count) is < 1)
            {
                throw new CliException($"--count must be at least 1 (got {result.GetValue(count)})");
            }
            var filter = new Filter(result.GetValue(gpu), result.GetValue(count), result.GetValue(spot), result.GetValue(provider),
                result.GetValue(region), result.GetValue(refresh));
            using var client = ClientSettings.CreateClient(result);
            var answer = filter.Refresh && !Console.IsOutputRedirected
                ? await AnsiConsole.Status().StartAsync("Refreshing provider catalogs...", _ => client.GetJsonAsync(Path(filter), ct)).ConfigureAwait(false)
                : await client.GetJsonAsync(Path(filter), ct).ConfigureAwait(false);
            if (result.GetValue(output) == OutputFormat.Json)
            {
                OutputFormat.WriteJson(answer);
                return 0;
            }
            OfferRendering.Write(AnsiConsole.Console, answer.Deserialize<OfferList>(AtollApiClient.Json)!, rows);
            return 0;
        });
        return command;
    }

    internal static string Path(Filter filter)
    {
        var query = new List<string>();
        void Add(string key, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                query.Add($"{key}={Uri.EscapeDataString(value)}");
            }
        }
        Add("gpu", filter.Gpu);
        Add("count", filter.Count?.ToString());
        Add("spot", filter.Spot ? "true" : null);
        Add("provider", filter.Provider);
        Add("region", filter.Region);
        Add("refresh", filter.Refresh ? "true" : null);
        return "api/v1/offers" + (query.Count > 0 ? "?" + string.Join("&", query) : "");
    }
}
