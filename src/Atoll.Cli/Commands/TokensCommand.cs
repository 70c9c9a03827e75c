using System.CommandLine;
using Atoll.Cli.Client;
using Atoll.Cli.Output;
using Atoll.Core;
using Atoll.Core.Contracts;
using Spectre.Console;

namespace Atoll.Cli.Commands;

/// <summary><c>atoll tokens create|list|delete</c>: one-time join tokens for new nodes.</summary>
internal static class TokensCommand
{
    private sealed record TokenList(List<JoinTokenView> Items);

    public static Command Create()
    {
        var tokens = new Command("tokens", "Manage join tokens (how new nodes join the fleet)");
        tokens.Subcommands.Add(CreateToken());
        tokens.Subcommands.Add(List());
        tokens.Subcommands.Add(Delete());
        return tokens;
    }

    private static Command CreateToken()
    {
        var uses = new Option<int>("--uses") { Description = "how many nodes may join with it", DefaultValueFactory = _ => 1 };
        var ttl = new Option<string>("--ttl") { Description = "how long it stays valid, e.g. 30m, 1h, 7d", DefaultValueFactory = _ => "1h" };
        var pool = new Option<string?>("--pool") { Description = "GPU pool the joining nodes belong to" };
        var description = new Option<string?>("--description") { Description = "free text shown in `atoll tokens list`" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "print only the token" };
        var output = OutputFormat.CreateOption();
        var command = new Command("create", "Create a join token (shown once; only its hash is stored)") { uses, ttl, pool, description, quiet, output };
        Actions.Set(command, async (result, ct) =>
        {
            var ttlText = result.GetValue(ttl)!;
            Durations.Parse(ttlText, "--ttl");
            using var client = ClientSettings.CreateClient(result);
            var token = await client.PostAsync<JoinTokenView>("api/v1/join-tokens",
                new CreateJoinTokenRequest(result.GetValue(uses), ttlText, result.GetValue(pool), result.GetValue(description)), ct).ConfigureAwait(false);
            if (result.GetValue(quiet))
            {
                Console.WriteLine(token.Token);
            }
            else if (result.GetValue(output) == OutputFormat.Json)
            {
                OutputFormat.WriteJson(token);
            }
            else
            {
                Console.WriteLine(token.Token);
                Console.Error.WriteLine($"join token {token.Id}: {token.UsesLeft} use(s), expires {token.ExpiresAt:u}. It is shown only now. Join a node with:");
                Console.Error.WriteLine($"  atoll agent --server {client.Server.AbsoluteUri.TrimEnd('/')} --join-token {token.Token}");
            }
            return 0;
        });
        return command;
    }

    private static Command List()
    {
        var output = OutputFormat.CreateOption();
        var command = new Command("list", "List join tokens (never their secrets)") { output };
        Actions.Set(command, async (result, ct) =>
        {
            using var client = ClientSettings.CreateClient(result);
            if (result.GetValue(output) == OutputFormat.Json)
            {
                OutputFormat.WriteJson(await client.GetJsonAsync("api/v1/join-tokens", ct).ConfigureAwait(false));
                return 0;
            }
            var list = await client.GetAsync<TokenList>("api/v1/join-tokens", ct).ConfigureAwait(false);
            var now = DateTimeOffset.UtcNow;
            var table = new Table().Border(TableBorder.None).AddColumns("ID", "USES LEFT", "EXPIRES", "POOL", "DESCRIPTION", "AGE");
            foreach (var t in list.Items)
            {
                var expires = t.ExpiresAt <= now ? "expired" : "in " + Ages.Since(now, t.ExpiresAt);
                table.AddRow(t.Id, t.UsesLeft.ToString(), expires, Markup.Escape(t.Pool ?? "-"), Markup.Escape(t.Description ?? "-"), Ages.Since(t.CreatedAt, now));
            }
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }

    private static Command Delete()
    {
        var id = new Argument<string>("id") { Description = "token id (from `atoll tokens list`)" };
        var command = new Command("delete", "Revoke a join token") { id };
        Actions.Set(command, async (result, ct) =>
        {
            using var client = ClientSettings.CreateClient(result);
            await client.DeleteAsync($"api/v1/join-tokens/{Uri.EscapeDataString(result.GetValue(id)!)}", ct).ConfigureAwait(false);
            Console.WriteLine($"join-token/{result.GetValue(id)} deleted");
            return 0;
        });
        return command;
    }
}
