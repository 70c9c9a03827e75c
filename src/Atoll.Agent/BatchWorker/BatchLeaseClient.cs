using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Atoll.Core.Contracts;

namespace Atoll.Agent.BatchWorker;

/// <summary>
/// The lease calls of <c>/api/v1/agent/leases</c>, with <see cref="ControlPlaneClient"/>'s error rules: 4xx become
/// <see cref="ControlPlaneException"/>; network errors, 5xx and 429 become <see cref="HttpRequestException"/>;
/// no answer in time becomes <see cref="TimeoutException"/>.
/// </summary>
/// <remarks>
/// The <see cref="HttpClient"/> must have no timeout of its own: a lease poll is a long poll, so each call sets
/// its own deadline (<paramref name="requestTimeout"/>, plus the wait for a poll).
/// </remarks>
internal sealed class BatchLeaseClient(HttpClient http, TimeSpan requestTimeout)
{
    private const string Leases = "api/v1/agent/leases";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>A lease for one of the models, or null when no work came within the wait (204).</summary>
    public async Task<LeaseGrant?> ClaimAsync(string credential, LeaseRequest request, CancellationToken ct)
    {
        var timeout = requestTimeout + TimeSpan.FromSeconds(Math.Max(0, request.WaitSeconds));
        using var response = await PostAsync(Leases, credential, request, timeout, ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return null;
        }
        return await response.Content.ReadFromJsonAsync<LeaseGrant>(Json, ct).ConfigureAwait(false)
            ?? throw new HttpRequestException("empty lease grant from the server");
    }

    public async Task<LeaseState> HeartbeatAsync(string credential, LeaseGrant lease, CancellationToken ct)
    {
        using var response = await PostAsync(PathOf(lease, "heartbeat"), credential, new LeaseUpdate(lease.LeaseToken), requestTimeout, ct)
            .ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync<LeaseState>(Json, ct).ConfigureAwait(false)
            ?? throw new HttpRequestException("empty lease state from the server");
    }

    /// <summary>Reports the uploaded result; 409 (lease lost: the server discards it) throws <see cref="ControlPlaneException"/>.</summary>
    public async Task CompleteAsync(string credential, LeaseGrant lease, int succeeded, int failed, CancellationToken ct)
    {
        using var response = await PostAsync(PathOf(lease, "complete"), credential, new LeaseUpdate(lease.LeaseToken, succeeded, failed), requestTimeout, ct)
            .ConfigureAwait(false);
    }

    /// <summary>Gives the chunk back as a failed attempt with <paramref name="error"/>; 409 (lease lost) throws <see cref="ControlPlaneException"/>.</summary>
    public async Task FailAsync(string credential, LeaseGrant lease, string error, CancellationToken ct)
    {
        using var response = await PostAsync(PathOf(lease, "fail"), credential, new LeaseUpdate(lease.LeaseToken, Error: error), requestTimeout, ct)
            .ConfigureAwait(false);
    }

    private static string PathOf(LeaseGrant lease, string action) =>
        string.Create(CultureInfo.InvariantCulture, $"{Leases}/{Uri.EscapeDataString(lease.BatchId)}/{lease.Seq}/{action}");

    /// <summary>Returns a 2xx response (the caller disposes it); throws on anything else.</summary>
    private async Task<HttpResponseMessage> PostAsync<TRequest>(string path, string bearer, TRequest body, TimeSpan timeout, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body, options: Json) };
        message.Headers.Authorization = new("Bearer", bearer);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(message, deadline.Token).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                await response.Content.LoadIntoBufferAsync(deadline.Token).ConfigureAwait(false);
                return response;
            }
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"no answer from {http.BaseAddress} within {timeout.TotalSeconds:F0}s", e);
        }
        using (response)
        {
            var detail = await ControlPlaneClient.ProblemDetailAsync(response, ct).ConfigureAwait(false);
            if ((int)response.StatusCode is >= 400 and < 500 && response.StatusCode != HttpStatusCode.TooManyRequests
                && response.StatusCode != HttpStatusCode.RequestTimeout)
            {
                throw new ControlPlaneException(response.StatusCode, detail);
            }
            throw new HttpRequestException($"{(int)response.StatusCode} from {path}: {detail}", null, response.StatusCode);
        }
    }
}
