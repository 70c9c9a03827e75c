using System.CommandLine;
using System.Text;
using System.Text.Json;
using Atoll.Cli.Client;

namespace Atoll.Cli.Commands;

/// <summary><c>atoll chat --model NAME "hello"</c>: one chat turn through the gateway, streamed to the terminal.</summary>
internal static class ChatCommand
{
    public static Command Create()
    {
        var message = new Argument<string>("message") { Description = "what to say" };
        var model = new Option<string?>("--model", "-m") { Description = "model name (default: the first one GET /v1/models lists)" };
        var system = new Option<string?>("--system") { Description = "system prompt" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "longest answer in tokens", DefaultValueFactory = _ => 128 };
        var noStream = new Option<bool>("--no-stream") { Description = "wait for the whole answer instead of streaming it" };
        var command = new Command("chat", "Send one chat message through the gateway and stream the answer")
        {
            message, model, system, maxTokens, noStream, OpenAiApiClient.ApiKeyOption,
        };
        Actions.Set(command, async (result, ct) =>
        {
            using var client = OpenAiApiClient.Create(result);
            var name = result.GetValue(model) ?? await FirstModelAsync(client, ct).ConfigureAwait(false);
            var messages = new List<object>();
            if (result.GetValue(system) is { } s)
            {
                messages.Add(new { role = "system", content = s });
            }
            messages.Add(new { role = "user", content = result.GetValue(message) });
            var stream = !result.GetValue(noStream);
            var body = JsonSerializer.Serialize(new { model = name, messages, max_tokens = result.GetValue(maxTokens), stream });
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            using var response = await client.SendAsync(request, ct).ConfigureAwait(false);
            if (!stream)
            {
                using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false));
                Console.WriteLine(doc.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
                return 0;
            }
            await StreamAsync(response, ct).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    private static async Task StreamAsync(HttpResponseMessage response, CancellationToken ct)
    {
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false));
        while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
        {
            if (!line.StartsWith("data:", StringComparison.Ordinal))
            {
                continue;
            }
            var data = line[5..].Trim();
            if (data == "[DONE]")
            {
                break;
            }
            using var doc = JsonDocument.Parse(data);
            if (doc.RootElement.TryGetProperty("error", out var error))
            {
                Console.WriteLine();
                throw new CliException(error.GetProperty("message").GetString() ?? "the stream ended with an error");
            }
            if (doc.RootElement.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0
                && choices[0].TryGetProperty("delta", out var delta) && delta.TryGetProperty("content", out var content)
                && content.ValueKind == JsonValueKind.String)
            {
                Console.Write(content.GetString());
                await Console.Out.FlushAsync(ct).ConfigureAwait(false);
            }
        }
        Console.WriteLine();
    }

    private static async Task<string> FirstModelAsync(OpenAiApiClient client, CancellationToken ct)
    {
        var models = await client.JsonAsync(HttpMethod.Get, "v1/models", null, ct).ConfigureAwait(false);
        var data = models.GetProperty("data");
        return data.GetArrayLength() > 0
            ? data[0].GetProperty("id").GetString()!
            : throw new CliException("no model is being served right now: start nodes with --model NAME=URL, or pass --model");
    }
}
