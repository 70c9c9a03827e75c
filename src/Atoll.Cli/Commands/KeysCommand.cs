using System.CommandLine;
using System.Text.Json;
using Atoll.Cli.Client;
using Atoll.Cli.Output;
using Spectre.Console;

namespace Atoll.Cli.Commands;

/// <summary><c>atoll keys create|list|delete</c>: API keys for the OpenAI-compatible gateway.</summary>
internal static class KeysCommand
{
    public static Command Create()
    {
        var keys = new Command("keys", "Manage API keys of the OpenAI-compatible gateway (/v1)");
        keys.Subcommands.Add(CreateKey());
        keys.Subcommands.Add(List());
        keys.Subcommands.Add(Delete());
        return keys;
    }

    private static Command CreateKey()
    {
        var name = new Option<string>("--name") { Description = "a name for the key, e.g. the team or app using it (letters, digits, '.', '_' or '-')", Required = true };
        var rpm = new Option<int?>("--rpm") { Description = "requests per minute allowed (default: no limit)" };
        var tpm = new Option<int?>("--tpm") { Description = "tokens per minute allowed (default: no limit)" };
        var maxConcurrent = new Option<int?>("--max-concurrent")
        {
            Description = "requests in flight at once allowed; more get 429 until one finishes (default: no limit)",
        };
        foreach (var limit in new[] { rpm, tpm, maxConcurrent })
        {
            limit.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<int?>() is < 1)
                {
                    r.AddError($"{limit.Name} must be at least 1; leave it out for no limit");
                }
            });
        }
        var quiet = new Option<bool>("--quiet", "-q") { Description = "print only the key" };
        var command = new Command("create", "Create an API key (shown once; only its hash is stored)") { name, rpm, tpm, maxConcurrent, quiet };
        Actions.Set(command, async (result, ct) =>
        {
            using var client = ClientSettings.CreateClient(result);
            var key = await client.PostAsync<JsonElement>("api/v1/api-keys",
                new { name = result.GetValue(name), rpm = result.GetValue(rpm), tpm = result.GetValue(tpm), maxConcurrent = result.GetValue(maxConcurrent) }, ct).ConfigureAwait(false);
            var secret = key.GetProperty("key").GetString();
            Console.WriteLine(secret);
            if (!result.GetValue(quiet))
            {
                Console.Error.WriteLine($"API key '{key.GetProperty("name").GetString()}' created; it is shown only now. Use it as:");
                Console.Error.WriteLine($"  export OPENAI_BASE_URL={client.Server.AbsoluteUri.TrimEnd('/')}/v1 OPENAI_API_KEY={secret}");
            }
            return 0;
        });
        return command;
    }

    private static Command List()
    {
        var output = OutputFormat.CreateOption();
        var command = new Command("list", "List API keys (never the keys themselves)") { output };
        Actions.Set(command, async (result, ct) =>
        {
            using var client = ClientSettings.CreateClient(result);
            var list = await client.GetJsonAsync("api/v1/api-keys", ct).ConfigureAwait(false);
            if (result.GetValue(output) == OutputFormat.Json)
            {
                OutputFormat.WriteJson(list);
                return 0;
            }
            var table = new Table().Border(TableBorder.None).AddColumns("NAME", "ID", "PREFIX", "RPM", "TPM", "CONCURRENT", "AGE");
            foreach (var k in list.GetProperty("items").EnumerateArray())
            {
                table.AddRow(Markup.Escape(k.GetProperty("name").GetString()!), k.GetProperty("id").GetString()!,
                    Markup.Escape(k.GetProperty("prefix").GetString()! + "..."), Limit(k.GetProperty("rpm")), Limit(k.GetProperty("tpm")),
                    Limit(k.GetProperty("maxConcurrent")),
                    Ages.Since(k.GetProperty("createdAt").GetDateTimeOffset(), DateTimeOffset.UtcNow));
            }
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }

    private static Command Delete()
    {
        var key = new Argument<string>("name") { Description = "key name or id" };
        var command = new Command("delete", "Revoke an API key (gateways stop accepting it within seconds)") { key };
        Actions.Set(command, async (result, ct) =>
        {
            using var client = ClientSettings.CreateClient(result);
            await client.DeleteAsync($"api/v1/api-keys/{Uri.EscapeDataString(result.GetValue(key)!)}", ct).ConfigureAwait(false);
            Console.WriteLine($"api-key/{result.GetValue(key)} deleted");
            return 0;
        });
        return command;
    }

    private static string Limit(JsonElement value) => value.ValueKind == JsonValueKind.Number ? value.GetInt32().ToString() : "-";
}
