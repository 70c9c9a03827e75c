using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Atoll.Core.Routing;
using Atoll.Server.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atoll.Server.Gateway;

/// <summary>
/// One OpenAI request through the gateway: authenticate, rate-limit, parse, then pick → forward, retrying on
/// another endpoint while nothing has reached the client (bounded by attempts and the retry budget), waiting in
/// a bounded queue while every endpoint is saturated.
/// </summary>
internal sealed class GatewayHandler(
    EndpointRegistry registry, EndpointPicker picker, RetryBudget budget, UpstreamForwarder forwarder, ApiKeyAuthenticator auth,
    KeyRateLimiter limiter, GatewayMetrics metrics, IOptions<GatewayOptions> options, TimeProvider time, ILogger<GatewayHandler> logger)
{
    private readonly ConcurrentDictionary<string, CapacitySignal> signals = new(StringComparer.Ordinal);

    /// <summary>A request Kestrel parsed: its body is read here, up to the gateway's limit.</summary>
    public async Task HandleAsync(HttpContext context, GatewayRoute route, string path)
    {
        var started = Stopwatch.GetTimestamp();
        var client = new KestrelClient(context);
        if (await AuthenticateAsync(client).ConfigureAwait(false) is not { } caller)
        {
            return;
        }
        var settings = options.Value;
        var body = await ReadBodyAsync(context.Request, settings.MaxBodyBytes, client.Aborted).ConfigureAwait(false);
        if (body is null)
        {
            metrics.CountRejected(413);
            await client.WriteErrorAsync(413, $"Request body is over the gateway's limit of {settings.MaxBodyBytes} bytes.",
                "invalid_request_error", "request_too_large").ConfigureAwait(false);
            return;
        }
        await ServeAsync(client, caller, route, path, body, started).ConfigureAwait(false);
    }

    /// <summary>
    /// A request the HTTP/1.1 front (<see cref="Http1Front"/>) authenticated (<see cref="AuthenticateAsync"/>) and
    /// then read, body and all, within the limit; <paramref name="started"/> is its <see cref="Stopwatch"/> timestamp
    /// from before the key check.
    /// </summary>
    public ValueTask HandleAsync(GatewayClient client, GatewayCaller caller, GatewayRoute route, string path, byte[] body, long started) =>
        ServeAsync(client, caller, route, path, body, started);

    /// <summary>Counts a request the front refused itself (its body too slow: 408).</summary>
    public void CountRejected(int status) => metrics.CountRejected(status);

    /// <summary>The caller, or null after answering 401.</summary>
    public async ValueTask<GatewayCaller?> AuthenticateAsync(GatewayClient client)
    {
        var (caller, denied) = await auth.AuthenticateAsync(client.Authorization, client.Aborted).ConfigureAwait(false);
        if (caller is null)
        {
            metrics.CountRejected(401);
            await client.WriteErrorAsync(401, denied!, "invalid_request_error", "invalid_api_key").ConfigureAwait(false);
        }
        return caller;
    }

    /// <summary>
    /// Checks the request, then routes it. Not an async method itself (only <see cref="RouteAsync"/> is): with 64
    /// requests in flight every async level of a request is an allocation of its own.
    /// </summary>
    private ValueTask ServeAsync(GatewayClient client, GatewayCaller caller, GatewayRoute route, string path, byte[] body, long started)
    {
        var (request, invalid, param) = GatewayRequest.Parse(body, route);
        if (request is null)
        {
            metrics.CountRejected(400);
            return client.WriteErrorAsync(400, invalid!, "invalid_request_error", null, param);
        }
        if (registry.ForModel(request.Model).Length == 0)
        {
            metrics.CountRejected(404);
            return client.WriteErrorAsync(404,
                $"The model `{request.Model}` does not exist or no node serves it. See GET /v1/models.", "invalid_request_error", "model_not_found", "model");
        }
        if (!limiter.TryBeginRequest(caller))
        {
            metrics.CountRejected(429);
            return client.WriteErrorAsync(429,
                $"API key '{caller.Name}' already has {caller.MaxConcurrent} request(s) in flight, its limit. Retry when one has finished.",
                "requests", "rate_limit_exceeded", null, TimeSpan.FromSeconds(1));
        }
        if (limiter.TryAdmit(caller, (int)Math.Min(int.MaxValue, request.PromptBytes / 4)) is { } wait)
        {
            limiter.EndRequest(caller);
            metrics.CountRejected(429);
            return client.WriteErrorAsync(429, $"Rate limit reached for API key '{caller.Name}'. Try again in {wait.TotalSeconds:0.#}s.",
                "requests", "rate_limit_exceeded", null, wait);
        }
        var firstByteTimeout = options.Value.FirstByteTimeoutFor(request.Stream, route, request.MaxTokens);
        return RouteAsync(client, caller, request, path, body, firstByteTimeout, started);
    }

    /// <summary>
    /// The request body in one array of its exact size when the client sent a Content-Length (as the SDKs do), or
    /// null when it is over <paramref name="max"/> bytes. The array grows as the bytes arrive (<see cref="RequestBodies"/>).
    /// </summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, long max, CancellationToken ct)
    {
        if (request.ContentLength is not { } length)
        {
            return await BoundedBody.ReadAsync(request, max, ct).ConfigureAwait(false);
        }
        if (length > max)
        {
            return null;
        }
        var body = RequestBodies.Start(length);
        var got = 0;
        while (got < length)
        {
            body = RequestBodies.Grow(body, got, got + 1, length);
            var read = await request.Body.ReadAsync(body.AsMemory(got), ct).ConfigureAwait(false);
            if (read == 0)
            {
                // Kestrel fails the read itself when the client ends a body shorter than it declared; this is a guard.
                throw new EndOfStreamException($"the request body ended after {got} of {length} bytes");
            }
            got += read;
        }
        return body;
    }

    /// <summary>
    /// Pick → forward, retrying and queueing as the class says; then the request's metrics and token charge, and the end
    /// of the key's count of requests in flight.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask RouteAsync(
        GatewayClient client, GatewayCaller caller, GatewayRequest request, string path, byte[] body, TimeSpan firstByteTimeout, long started)
    {
        try
        {
            var latency = metrics.Latency(request.Model);
            var firstByte = new FirstByteTimer(latency.FirstToken, started);
            var settings = options.Value;
            var routing = new RoutingRequest(request.Model) { PrefixHashes = request.PrefixHashes, ClientLocation = settings.Location };
            var signal = signals.TryGetValue(request.Model, out var known)
                ? known
                : signals.GetOrAdd(request.Model, static (_, max) => new CapacitySignal(max), settings.MaxQueuedRequests);
            // Set when the request first finds every endpoint busy: most never wait, and need no clock read for it.
            DateTimeOffset? queueDeadline = null;
            budget.RecordRequest();
            string? lastProblem = null;
            string? lastEndpoint = null;
            // The status of a failed attempt whose retry has not yet had its budget token: one is taken only once there
            // is an endpoint to retry on, so a model with no other endpoint does not drain the budget that all share.
            int? retryOf = null;
            // Stopwatch ticks spent in the wait queue, over all its waits (a retry can queue again).
            long queuedTicks = 0;
            // How the request ended, for its metrics: the endpoint that answered last (if any), the status, the tokens.
            string? servedBy;
            string code;
            int tokens;
            for (var attempt = 1; ; )
            {
                var pick = picker.Pick(routing, registry.ForModel(request.Model), explain: false);
                if (pick.Outcome == PickOutcome.AllSaturated)
                {
                    var waitStarted = Stopwatch.GetTimestamp();
                    queueDeadline ??= time.GetUtcNow() + settings.QueueTimeout;
                    var admitted = await WaitForCapacityAsync(signal, queueDeadline.Value, client.Aborted).ConfigureAwait(false);
                    queuedTicks += Stopwatch.GetTimestamp() - waitStarted;
                    if (!admitted)
                    {
                        if (client.Aborted.IsCancellationRequested)
                        {
                            (servedBy, code, tokens) = (null, "499", 0);
                            break;
                        }
                        await client.WriteErrorAsync(429,
                            $"Every endpoint of `{request.Model}` is busy and the wait queue is full or timed out after {settings.QueueTimeout.TotalSeconds:0}s. Retry shortly.",
                            "server_error", "model_overloaded", null, TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                        (servedBy, code, tokens) = (null, "429", 0);
                        break;
                    }
                    continue;
                }
                if (!pick.IsPicked)
                {
                    var message = lastProblem is null
                        ? $"No endpoint of `{request.Model}` can take requests now ({pick.Counts.Describe()}); nodes may be down or starting."
                        : $"All attempts for `{request.Model}` failed; last: {lastEndpoint}: {lastProblem}.";
                    await client.WriteErrorAsync(lastProblem is null ? 503 : 502, message, "server_error",
                        lastProblem is null ? "no_endpoint_available" : "upstream_failed").ConfigureAwait(false);
                    (servedBy, code, tokens) = (lastEndpoint, lastProblem is null ? "503" : "502", 0);
                    break;
                }

                if (retryOf is { } failedStatus)
                {
                    if (!budget.TryAcquireRetry())
                    {
                        metrics.RetryBudgetExhausted.Inc();
                        await client.WriteErrorAsync(502,
                            $"`{request.Model}` failed on {attempt - 1} endpoint(s) and the gateway's retry budget is spent; last: {lastEndpoint}: {lastProblem}.",
                            "server_error", "upstream_failed").ConfigureAwait(false);
                        (servedBy, code, tokens) = (lastEndpoint, "502", 0);
                        break;
                    }
                    metrics.Retries.WithLabels(request.Model, failedStatus switch
                    {
                        0 => "connect_or_timeout",
                        >= 400 => GatewayMetrics.Code(failedStatus),
                        _ => "broken_answer", // headers came, then the body broke off
                    }).Inc();
                    retryOf = null;
                }

                var endpoint = pick.Endpoint;
                using var slot = endpoint.TryBeginRequest();
                if (slot is null)
                {
                    continue; // another request took its last slot since the pick: pick again
                }
                var result = await forwarder.ForwardAsync(client, endpoint, path, body, request.Stream, firstByteTimeout, firstByte, request.MaxTokens).ConfigureAwait(false);
                slot.Dispose(); // before waking the queue, so a waiter finds the slot free
                signal.Release();
                if (Settle(endpoint, result) is { } settled)
                {
                    (servedBy, code, tokens) = (endpoint.Name, settled, result.CompletionTokens);
                    break;
                }

                // Retryable: nothing reached the client yet.
                if (result.Status != StatusCodes.Status429TooManyRequests)
                {
                    Fail(endpoint, result);
                }
                lastProblem = result.Problem?.TrimEnd('.'); // it ends a sentence of the 502's message
                lastEndpoint = endpoint.Name;
                routing = routing.Excluding(endpoint.Id);
                if (++attempt > settings.MaxAttempts)
                {
                    await client.WriteErrorAsync(502,
                        $"`{request.Model}` failed on {attempt - 1} endpoint(s); last: {lastEndpoint}: {lastProblem}.", "server_error", "upstream_failed")
                        .ConfigureAwait(false);
                    (servedBy, code, tokens) = (lastEndpoint, "502", 0);
                    break;
                }
                retryOf = result.Status;
            }
            limiter.Charge(caller, tokens);
            metrics.CountRequest(request.Model, servedBy ?? "none", code);
            latency.Duration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
            if (queuedTicks > 0)
            {
                latency.QueueWait.Observe((double)queuedTicks / Stopwatch.Frequency);
            }
        }
        finally
        {
            limiter.EndRequest(caller); // a key's count of requests in flight (TryBeginRequest), however the request ends
        }
    }

    /// <summary>The metrics code of an attempt that ended the request (its endpoint's health updated), or null when it may be retried.</summary>
    private string? Settle(RoutableEndpoint endpoint, AttemptResult result)
    {
        switch (result.Outcome)
        {
            case AttemptOutcome.Answered:
                endpoint.Health.RecordSuccess();
                return GatewayMetrics.Code(result.Status);
            case AttemptOutcome.ClientGone:
                return "499";
            case AttemptOutcome.StreamBroken:
                Fail(endpoint, result);
                return "stream_error";
            case AttemptOutcome.StreamTimedOut:
                return "stream_timeout";
            default:
                return null;
        }
    }

    private void Fail(RoutableEndpoint endpoint, AttemptResult result)
    {
        if (endpoint.Health.RecordFailure())
        {
            metrics.Ejections.WithLabels(endpoint.Name).Inc();
            logger.LogWarning("Ejected endpoint {Endpoint} after {Failures} consecutive failures (last: {Problem}); back after {Until:O}",
                endpoint.Id, options.Value.Ejection.ConsecutiveFailures, result.Problem, endpoint.Health.EjectedUntil);
        }
    }

    private async Task<bool> WaitForCapacityAsync(CapacitySignal signal, DateTimeOffset deadline, CancellationToken ct)
    {
        var left = deadline - time.GetUtcNow();
        if (left <= TimeSpan.Zero || !signal.TryEnter())
        {
            return false;
        }
        metrics.Queued.Inc();
        try
        {
            var released = signal.NextReleaseAsync();
            // Also re-check now and then: capacity can come back without a release (a probe, a refresh).
            var timeout = left < TimeSpan.FromMilliseconds(250) ? left : TimeSpan.FromMilliseconds(250);
            await Task.WhenAny(released, Task.Delay(timeout, time, ct)).ConfigureAwait(false);
            return !ct.IsCancellationRequested;
        }
        finally
        {
            signal.Leave();
            metrics.Queued.Dec();
        }
    }
}
