using System.CommandLine;
using System.Net.Http.Headers;
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
        var apiKey = new Option<string?>("--api-key") { Description = "gateway API key [env: ATOLL_API_KEY; default: the admin token]" };
        var command = new Command("chat", "Send one chat message through the gateway and stream the answer") { message, model, system, maxTokens, noStream, apiKey };
        Actions.Set(command, async (result, ct) =>
        {
            using var admin = ClientSettings.CreateClient(result);
            var key = result.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("ATOLL_API_KEY") ?? admin.Token;
            using var http = new HttpClient { BaseAddress = new Uri(admin.Server.AbsoluteUri.TrimEnd('/') + "/"), Timeout = Timeout.InfiniteTimeSpan };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            var name = result.GetValue(model) ?? await FirstModelAsync(http, ct).ConfigureAwait(false);
            var messages = new List<object>();
            if (result.GetValue(system) is { } s)
            {
                messages.Add(new { role = "system", content = s });
            }
            messages.Add(new { role = "user", content = result.GetValue(message) });
            var stream = !result.GetValue(noStream);
            var body = JsonSerializer.Serialize(new { model = name, messages, max_tokens = result.GetValue(maxTokens), stream });
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            using var response = await Send(http, request, ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new CliException($"{(int)response.StatusCode}: {ErrorMessage(await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false))}");
            }
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

    private static async Task<string> FirstModelAsync(HttpClient http, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/models");
        using var response = await Send(http, request, ct).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new CliException($"{(int)response.StatusCode}: {ErrorMessage(text)}");
        }
        using var doc = JsonDocument.Parse(text);
        var data = doc.RootElement.GetProperty("data");
        return data.GetArrayLength() > 0
            ? data[0].GetProperty("id").GetString()!
            : throw new CliException("no model is being served right now: start nodes with --model NAME=URL, or pass --model");
    }

    private static async Task<HttpResponseMessage> Send(HttpClient http, HttpRequestMessage request, CancellationToken ct)
    {
        try
        {
            return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new CliException($"cannot reach the Atoll gateway at {http.BaseAddress}: {e.Message}; start it with `atoll up`, or set --server/ATOLL_SERVER");
        }
    }

    private static string ErrorMessage(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.GetProperty("error").GetProperty("message").GetString() ?? body;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return body;
        }
    }
}
