using System.CommandLine;
using System.Text.Json;
using Atoll.Cli.Client;
using Atoll.Cli.Output;
using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Spectre.Console;

namespace Atoll.Cli.Commands;

/// <summary><c>atoll get pools|providers|claims|offers [NAME]</c>: what the fleet is declared as and what became of it.</summary>
internal static class GetCommand
{
    private const string Claims = "claims";
    private const string Offers = "offers";
    private const string Yaml = "yaml";

    public static Command Create()
    {
        var kind = new Argument<string>("kind") { Description = "pools, providers, claims or offers" };
        var name = new Argument<string?>("name") { Description = "one by name; for a claim, shows every offer it tried and why each failed", Arity = ArgumentArity.ZeroOrOne };
        var pool = new Option<string?>("--pool") { Description = "claims of this pool only" };
        var all = new Option<bool>("--all") { Description = "include Terminated claims" };
        var output = new Option<string>("--output", "-o") { Description = "output format: table, yaml or json", DefaultValueFactory = _ => OutputFormat.Table };
        output.AcceptOnlyFromAmong(OutputFormat.Table, Yaml, OutputFormat.Json);
        var command = new Command("get", """
            Show GpuPools, Providers, node claims or offers. A claim by name lists each offer it tried, with outcome and message.

            Examples:
              atoll get pools
              atoll get providers -o yaml        # the specs as applied, credential references included (never values)
              atoll get claims --pool h100 --all
              atoll get claims h100-7xk2p        # why did this node not launch?
            """)
        { kind, name, pool, all, output };
        Actions.Set(command, async (result, ct) =>
        {
            var noun = Noun(result.GetValue(kind)!);
            if (noun != Claims && (result.GetValue(pool) is not null || result.GetValue(all)))
            {
                throw new CliException("--pool and --all apply to `atoll get claims` only");
            }
            using var client = ClientSettings.CreateClient(result);
            var format = result.GetValue(output)!;
            return noun switch
            {
                Claims => await GetClaimsAsync(client, result.GetValue(name), result.GetValue(pool), result.GetValue(all), format, ct).ConfigureAwait(false),
                Offers => await GetOffersAsync(client, result.GetValue(name), format, ct).ConfigureAwait(false),
                _ => await GetResourcesAsync(client, noun, result.GetValue(name), format, ct).ConfigureAwait(false),
            };
        });
        return command;
    }

    /// <summary>What a word on the command line names: <see cref="ResourceKinds.GpuPool"/>, <see cref="ResourceKinds.Provider"/>, claims or offers.</summary>
    internal static string Noun(string word) => word.ToLowerInvariant() switch
    {
        "pools" or "pool" or "gpupools" or "gpupool" => ResourceKinds.GpuPool,
        "providers" or "provider" => ResourceKinds.Provider,
        "claims" or "claim" or "nodeclaims" or "nodeclaim" => Claims,
        "offers" or "offer" => Offers,
        _ => throw new CliException($"unknown kind '{word}': expected pools, providers, claims or offers"),
    };

    private static async Task<int> GetResourcesAsync(AtollApiClient client, string kind, string? name, string format, CancellationToken ct)
    {
        var path = $"api/v1/resources/{kind}" + (name is null ? "" : "/" + Uri.EscapeDataString(name));
        if (format == OutputFormat.Json)
        {
            OutputFormat.WriteJson(await client.GetJsonAsync(path, ct).ConfigureAwait(false));
            return 0;
        }
        IReadOnlyList<ResourceDocument> docs = name is null
            ? (await client.GetAsync<ItemList<ResourceDocument>>(path, ct).ConfigureAwait(false)).Items
            : [await client.GetAsync<ResourceDocument>(path, ct).ConfigureAwait(false)];
        if (format == Yaml)
        {
            Console.Out.Write(ResourceYaml.Serialize(docs));
            return 0;
        }
        if (docs.Count == 0)
        {
            Console.WriteLine($"No {kind}s yet. Declare them in YAML and run: atoll apply -f FILE");
            return 0;
        }
        AnsiConsole.Write(kind == ResourceKinds.GpuPool ? FleetRendering.Pools(docs) : FleetRendering.Providers(docs, DateTimeOffset.UtcNow));
        return 0;
    }

    private static async Task<int> GetClaimsAsync(AtollApiClient client, string? name, string? pool, bool all, string format, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        if (name is not null)
        {
            var claim = await client.GetJsonAsync($"api/v1/claims/{Uri.EscapeDataString(name)}", ct).ConfigureAwait(false);
            var typed = claim.Deserialize<NodeClaim>(AtollApiClient.Json)!;
            if (pool is not null && typed.Pool != pool)
            {
                throw new CliException($"claim '{name}' belongs to pool {typed.Pool}, not {pool}");
            }
            Write(claim, format, () => ClaimRendering.Describe(AnsiConsole.Console, typed, now));
            return 0;
        }
        var query = new List<string>();
        if (pool is not null)
        {
            query.Add("pool=" + Uri.EscapeDataString(pool));
        }
        if (all)
        {
            query.Add("all=true");
        }
        var answer = await client.GetJsonAsync("api/v1/claims" + (query.Count > 0 ? "?" + string.Join("&", query) : ""), ct).ConfigureAwait(false);
        var claims = answer.GetProperty("items").Deserialize<List<NodeClaim>>(AtollApiClient.Json)!;
        if (format == OutputFormat.Table && claims.Count == 0)
        {
            Console.WriteLine(all ? "No node claims." : "No active node claims (--all includes Terminated ones).");
            return 0;
        }
        Write(answer, format, () => AnsiConsole.Write(ClaimRendering.List(claims, now)));
        return 0;
    }

    private static async Task<int> GetOffersAsync(AtollApiClient client, string? name, string format, CancellationToken ct)
    {
        if (name is not null)
        {
            throw new CliException("offers have no names; filter them with `atoll offers --gpu H100 --region R --provider P`");
        }
        var answer = await client.GetJsonAsync(OffersCommand.Path(new OffersCommand.Filter()), ct).ConfigureAwait(false);
        Write(answer, format, () => OfferRendering.Write(AnsiConsole.Console, answer.Deserialize<OfferList>(AtollApiClient.Json)!, OffersCommand.DefaultLimit));
        return 0;
    }

    private static void Write(JsonElement answer, string format, Action table)
    {
        switch (format)
        {
            case OutputFormat.Json:
                OutputFormat.WriteJson(answer);
                break;
            case Yaml:
                Console.Out.Write(FleetYaml.From(answer));
                break;
            default:
                table();
                break;
        }
    }
}
