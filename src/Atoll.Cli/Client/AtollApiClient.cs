using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace Atoll.Cli.Client;

/// <summary>HTTP client of the control API for CLI commands; every failure becomes a one-line <see cref="CliException"/>.</summary>
internal sealed class AtollApiClient : IDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient http;

    public AtollApiClient(Uri server, string token)
    {
        Server = server;
        Token = token;
        http = new HttpClient { BaseAddress = new Uri(server.AbsoluteUri.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", token);
    }

    public Uri Server { get; }

    /// <summary>The admin token this client sends.</summary>
    public string Token { get; }

    public Task<T> GetAsync<T>(string path, CancellationToken ct) => SendAsync<T>(HttpMethod.Get, path, null, ct);

    public Task<T> PostAsync<T>(string path, object body, CancellationToken ct) => SendAsync<T>(HttpMethod.Post, path, body, ct);

    public Task DeleteAsync(string path, CancellationToken ct) => SendAsync<JsonElement?>(HttpMethod.Delete, path, null, ct);

    /// <summary>The raw JSON answer, for <c>-o json</c>.</summary>
    public Task<JsonElement> GetJsonAsync(string path, CancellationToken ct) => SendAsync<JsonElement>(HttpMethod.Get, path, null, ct);

    public void Dispose() => http.Dispose();

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: Json);
        }
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException s)
        {
            throw new CliException($"cannot reach the Atoll server at {Server} ({s.SocketErrorCode}): start it with `atoll server` or `atoll up`, or set --server/ATOLL_SERVER");
        }
        catch (HttpRequestException e)
        {
            throw new CliException($"request to {Server} failed: {e.Message}");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new CliException($"the Atoll server at {Server} did not answer within {http.Timeout.TotalSeconds}s");
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new CliException(await ErrorMessageAsync(response, ct).ConfigureAwait(false));
            }
            if (response.StatusCode == HttpStatusCode.NoContent)
            {
                return default!;
            }
            return await response.Content.ReadFromJsonAsync<T>(Json, ct).ConfigureAwait(false)
                ?? throw new CliException($"empty answer from {Server}{path}");
        }
    }

    private static async Task<string> ErrorMessageAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        var status = $"{(int)response.StatusCode} {response.ReasonPhrase}";
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("detail", out var detail))
            {
                return $"{status}: {detail.GetString()}";
            }
        }
        catch (JsonException)
        {
        }
        return string.IsNullOrWhiteSpace(text) ? status : $"{status}: {text.Trim()}";
    }
}
