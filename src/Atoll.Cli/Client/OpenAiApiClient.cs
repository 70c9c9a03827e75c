using System.Net.Http.Headers;
using System.Text.Json;
using System.CommandLine;

namespace Atoll.Cli.Client;

/// <summary>
/// Client of the server's OpenAI-compatible API (/v1) for CLI commands: the key is <c>--api-key</c>,
/// <c>ATOLL_API_KEY</c> or else the admin token; errors in OpenAI's shape become one-line <see cref="CliException"/>s.
/// </summary>
internal sealed class OpenAiApiClient : IDisposable
{
    public static readonly Option<string?> ApiKeyOption = new("--api-key") { Description = "gateway API key [env: ATOLL_API_KEY; default: the admin token]" };

    private OpenAiApiClient(Uri server, string key)
    {
        Server = server;
        Http = new HttpClient { BaseAddress = new Uri(server.AbsoluteUri.TrimEnd('/') + "/"), Timeout = Timeout.InfiniteTimeSpan };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
    }

    public Uri Server { get; }

    public HttpClient Http { get; }

    public static OpenAiApiClient Create(ParseResult result)
    {
        using var admin = ClientSettings.CreateClient(result);
        var key = result.GetValue(ApiKeyOption) ?? Environment.GetEnvironmentVariable("ATOLL_API_KEY") ?? admin.Token;
        return new OpenAiApiClient(admin.Server, key);
    }

    /// <summary>Sends and returns the response (headers read); throws a one-line error when unreachable or not 2xx.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        HttpResponseMessage response;
        try
        {
            response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new CliException($"cannot reach the Atoll server at {Server}: {e.Message}; start it with `atoll up`, or set --server/ATOLL_SERVER");
        }
        if (response.IsSuccessStatusCode)
        {
            return response;
        }
        using (response)
        {
            throw new CliException($"{(int)response.StatusCode}: {ErrorMessage(await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false))}");
        }
    }

    public async Task<JsonElement> JsonAsync(HttpMethod method, string path, HttpContent? content, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        using var response = await SendAsync(request, ct).ConfigureAwait(false);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false));
        return doc.RootElement.Clone();
    }

    /// <summary>The message of an OpenAI-style error body, or the body itself.</summary>
    public static string ErrorMessage(string body)
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

    public void Dispose() => Http.Dispose();
}
