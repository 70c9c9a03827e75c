using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Atoll.Core.Fleet;
using Atoll.Core.Retry;
using Microsoft.Extensions.Logging;

namespace Atoll.Providers.Http;

/// <summary>
/// The HTTP plumbing every REST adapter shares: one client-side rate limit, retries with backoff for transient
/// failures and 429s (honouring <c>Retry-After</c>), and error bodies turned into <see cref="ProviderException"/>
/// by the adapter's own classifier. Never logs headers or bodies (they carry credentials and user data).
/// </summary>
public sealed class ProviderHttpClient
{
    private readonly HttpClient http;
    private readonly string provider;
    private readonly Func<HttpStatusCode, string, ProviderException> classify;
    private readonly ProviderHttpOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly Lock pace = new();
    private DateTimeOffset nextSlot;

    /// <param name="classify">Turns a non-success status and its body into a typed error (the body is the provider's error JSON).</param>
    public ProviderHttpClient(
        HttpClient http, string provider, Func<HttpStatusCode, string, ProviderException> classify,
        ProviderHttpOptions options, TimeProvider time, ILogger logger)
    {
        this.http = http;
        this.provider = provider;
        this.classify = classify;
        this.options = options;
        this.time = time;
        this.logger = logger;
    }

    /// <summary>Sends the request built by <paramref name="build"/> (called once per attempt) and returns the body text.</summary>
    public async Task<string> SendAsync(Func<HttpRequestMessage> build, CancellationToken ct)
    {
        var backoff = new ExponentialBackoff(options.InitialBackoff, options.MaxBackoff);
        for (var attempt = 1; ; attempt++)
        {
            ProviderException error;
            await PaceAsync(ct).ConfigureAwait(false);
            using var request = build();
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(options.AttemptTimeout);
                using var response = await http.SendAsync(request, timeout.Token).ConfigureAwait(false);
                var body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return body;
                }
                error = classify(response.StatusCode, body);
                if (error.RetryAfter is null && RetryAfter(response.Headers) is { } after)
                {
                    error = new ProviderException(error.Reason, error.Message, error.InnerException, after);
                }
            }
            catch (HttpRequestException e)
            {
                error = new ProviderException(ProviderErrorReason.Transient, $"{provider}: {request.Method} {request.RequestUri?.AbsolutePath} failed: {e.Message}", e);
            }
            catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
            {
                error = new ProviderException(ProviderErrorReason.Transient, $"{provider}: {request.Method} {request.RequestUri?.AbsolutePath} timed out after {options.AttemptTimeout.TotalSeconds:0}s", e);
            }

            if (!error.IsRetryable || attempt >= options.MaxAttempts)
            {
                throw error;
            }
            var delay = error.RetryAfter is { } ra && ra > TimeSpan.Zero ? Min(ra, options.MaxBackoff * 3) : backoff.NextDelay();
            logger.LogInformation("{Provider}: {Method} {Path} failed ({Reason}: {Message}); retry {Attempt}/{Max} in {Delay} ms",
                provider, request.Method, request.RequestUri?.AbsolutePath, error.Reason, error.Message, attempt + 1, options.MaxAttempts, (int)delay.TotalMilliseconds);
            await Task.Delay(delay, time, ct).ConfigureAwait(false);
        }
    }

    /// <summary><see cref="SendAsync"/>, then the body parsed as JSON.</summary>
    public async Task<JsonDocument> SendJsonAsync(Func<HttpRequestMessage> build, CancellationToken ct)
    {
        var body = await SendAsync(build, ct).ConfigureAwait(false);
        try
        {
            return JsonDocument.Parse(string.IsNullOrWhiteSpace(body) ? "null" : body);
        }
        catch (JsonException e)
        {
            throw new ProviderException(ProviderErrorReason.Transient, $"{provider}: the API answered something that is not JSON: {e.Message}", e);
        }
    }

    /// <summary>A JSON request body.</summary>
    public static HttpContent Json<T>(T value) =>
        new StringContent(JsonSerializer.Serialize(value), System.Text.Encoding.UTF8, "application/json");

    /// <summary>A request with a bearer token.</summary>
    public static HttpRequestMessage Request(HttpMethod method, Uri uri, string? bearer, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, uri) { Content = content };
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return request;
    }

    /// <summary>The reason most providers mean by a bare status code, for bodies that say nothing more.</summary>
    public static ProviderErrorReason ReasonOf(HttpStatusCode status) => status switch
    {
        HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => ProviderErrorReason.Unauthorized,
        HttpStatusCode.NotFound => ProviderErrorReason.NotFound,
        HttpStatusCode.TooManyRequests => ProviderErrorReason.RateLimited,
        HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity or HttpStatusCode.Conflict => ProviderErrorReason.InvalidRequest,
        _ when (int)status >= 500 => ProviderErrorReason.Transient,
        _ => ProviderErrorReason.InvalidRequest,
    };

    private async Task PaceAsync(CancellationToken ct)
    {
        if (options.RequestsPerSecond <= 0)
        {
            return;
        }
        // Reserve the next free slot under the lock, wait for it outside.
        TimeSpan wait;
        lock (pace)
        {
            var now = time.GetUtcNow();
            var slot = nextSlot > now ? nextSlot : now;
            nextSlot = slot + TimeSpan.FromSeconds(1 / options.RequestsPerSecond);
            wait = slot - now;
        }
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, time, ct).ConfigureAwait(false);
        }
    }

    private static TimeSpan? RetryAfter(HttpResponseHeaders headers)
    {
        if (headers.RetryAfter is not { } value)
        {
            return null;
        }
        return value.Delta ?? (value.Date is { } date ? date - DateTimeOffset.UtcNow : null);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
