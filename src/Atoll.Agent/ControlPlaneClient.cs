using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Atoll.Core.Contracts;

namespace Atoll.Agent;

/// <summary>
/// The agent's only way to the control plane. 4xx answers become <see cref="ControlPlaneException"/> (permanent);
/// network errors, timeouts and 5xx surface as <see cref="HttpRequestException"/>/<see cref="TimeoutException"/>
/// (worth retrying).
/// </summary>
public sealed class ControlPlaneClient(HttpClient http)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public Task<RegisterNodeResponse> RegisterAsync(string joinToken, RegisterNodeRequest request, CancellationToken ct) =>
        PostAsync<RegisterNodeRequest, RegisterNodeResponse>("api/v1/agent/register", joinToken, request, ct);

    public Task<HeartbeatResponse> HeartbeatAsync(string credential, HeartbeatRequest request, CancellationToken ct) =>
        PostAsync<HeartbeatRequest, HeartbeatResponse>("api/v1/agent/heartbeat", credential, request, ct);

    private async Task<TResponse> PostAsync<TRequest, TResponse>(string path, string bearer, TRequest body, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body, options: Json) };
        message.Headers.Authorization = new("Bearer", bearer);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(message, ct).ConfigureAwait(false);
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"no answer from {http.BaseAddress} within {http.Timeout.TotalSeconds}s", e);
        }
        using (response)
        {
            if (response.IsSuccessStatusCode)
            {
                return await response.Content.ReadFromJsonAsync<TResponse>(Json, ct).ConfigureAwait(false)
                    ?? throw new HttpRequestException($"empty answer from {path}");
            }
            var detail = await ProblemDetailAsync(response, ct).ConfigureAwait(false);
            if ((int)response.StatusCode is >= 400 and < 500 && response.StatusCode != HttpStatusCode.TooManyRequests
                && response.StatusCode != HttpStatusCode.RequestTimeout)
            {
                throw new ControlPlaneException(response.StatusCode, detail);
            }
            throw new HttpRequestException($"{(int)response.StatusCode} from {path}: {detail}", null, response.StatusCode);
        }
    }

    internal static async Task<string> ProblemDetailAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("detail", out var d))
            {
                return d.GetString() ?? text;
            }
        }
        catch (JsonException)
        {
        }
        return string.IsNullOrWhiteSpace(text) ? response.ReasonPhrase ?? response.StatusCode.ToString() : text.Trim();
    }
}
