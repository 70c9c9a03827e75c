using System.Net.Http.Headers;

namespace Atoll.Agent.BatchWorker;

/// <summary>
/// Sends batch requests to the node's own model server. One attempt per call: retry policy is the caller's.
/// The <see cref="HttpClient"/> must carry no credentials and no timeout of its own.
/// </summary>
internal sealed class LocalModelClient(HttpClient http, TimeSpan requestTimeout)
{
    private static readonly MediaTypeHeaderValue JsonType = new("application/json");

    /// <summary>
    /// POSTs <paramref name="body"/> to <paramref name="url"/>. Any HTTP answer is returned; no connection throws
    /// <see cref="HttpRequestException"/> and no answer within the timeout throws <see cref="TimeoutException"/>.
    /// </summary>
    public async Task<ModelAnswer> SendAsync(Uri url, byte[] body, CancellationToken ct)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = JsonType;
        using var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(requestTimeout);
        try
        {
            using var response = await http.SendAsync(message, deadline.Token).ConfigureAwait(false);
            var answer = await response.Content.ReadAsByteArrayAsync(deadline.Token).ConfigureAwait(false);
            var requestId = response.Headers.TryGetValues("x-request-id", out var ids) ? ids.FirstOrDefault() : null;
            return new ModelAnswer((int)response.StatusCode, answer, requestId ?? "req_" + Guid.NewGuid().ToString("N"));
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"no answer within {requestTimeout.TotalSeconds:F0}s", e);
        }
    }

    /// <summary>The body of <paramref name="url"/> on a 2xx answer, else null (no metrics there); network errors throw.</summary>
    public async Task<string?> GetTextAsync(Uri url, TimeSpan timeout, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        try
        {
            using var response = await http.GetAsync(url, deadline.Token).ConfigureAwait(false);
            return response.IsSuccessStatusCode ? await response.Content.ReadAsStringAsync(deadline.Token).ConfigureAwait(false) : null;
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"no answer within {timeout.TotalSeconds:F0}s", e);
        }
    }
}
