using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Atoll.Server.Gateway;

/// <summary>
/// The client side of one forwarded request: who asks, whether they are still there, and how the answer goes back.
/// Two kinds: <see cref="KestrelClient"/> for a request Kestrel parsed (HTTP/2, chunked uploads, anything unusual)
/// and the gateway's own HTTP/1.1 front (<see cref="Http1Front"/>), which answers straight into the connection.
/// </summary>
internal abstract class GatewayClient
{
    /// <summary>The Authorization header as sent ("" when absent).</summary>
    public abstract string Authorization { get; }

    /// <summary>Cancelled when the client is gone: disconnected, or an answer could not be sent.</summary>
    public abstract CancellationToken Aborted { get; }

    /// <summary>
    /// The cancellation of one upstream attempt: cancelled when the client goes away or after
    /// <paramref name="timeout"/>. Hand it back with <see cref="EndAttempt"/>.
    /// </summary>
    public virtual AttemptCancellation BeginAttempt(TimeSpan timeout) => AttemptCancellation.Rent(timeout, Aborted);

    /// <summary>Ends an attempt <see cref="BeginAttempt"/> started.</summary>
    public virtual void EndAttempt(AttemptCancellation attempt) => attempt.Return();

    /// <summary>Answers with an error in OpenAI's shape (<see cref="OpenAiErrors"/>).</summary>
    public ValueTask WriteErrorAsync(int status, string message, string type, string? code = null, string? param = null, TimeSpan? retryAfter = null) =>
        WriteErrorJsonAsync(status, OpenAiErrors.Body(message, type, code, param),
            retryAfter is { } wait ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : null);

    /// <summary>Answers with <paramref name="json"/>, and Retry-After when <paramref name="retryAfterSeconds"/> is set.</summary>
    protected abstract ValueTask WriteErrorJsonAsync(int status, string json, int? retryAfterSeconds);

    /// <summary>Sends a whole non-streaming answer: the upstream's status and headers, then <paramref name="body"/>.</summary>
    public abstract ValueTask WriteAnswerAsync(Http1Connection answer, string endpoint, ReadOnlyMemory<byte> body);

    /// <summary>Sends the head of a streamed answer (not cached, no length); <see cref="WriteStreamAsync"/> follows.</summary>
    public abstract ValueTask StartStreamAsync(Http1Connection answer, string endpoint);

    /// <summary>Sends one piece of a stream at once, never held back.</summary>
    public abstract ValueTask WriteStreamAsync(ReadOnlyMemory<byte> piece);

    /// <summary>Ends a stream that completed.</summary>
    public abstract ValueTask EndStreamAsync();

    /// <summary>Cuts the connection: the client sees a failure, never a short answer that looks complete.</summary>
    public abstract void Abort();
}

/// <summary>A forwarded request that came through Kestrel's pipeline.</summary>
internal sealed class KestrelClient(HttpContext context) : GatewayClient
{
    public override string Authorization => context.Request.Headers.Authorization.ToString();

    public override CancellationToken Aborted => context.RequestAborted;

    protected override ValueTask WriteErrorJsonAsync(int status, string json, int? retryAfterSeconds)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        if (retryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return new ValueTask(context.Response.WriteAsync(json, context.RequestAborted));
    }

    public override ValueTask WriteAnswerAsync(Http1Connection answer, string endpoint, ReadOnlyMemory<byte> body)
    {
        CopyHeaders(answer, endpoint);
        if (answer.Status is 204 or 304)
        {
            return ValueTask.CompletedTask; // no body and no Content-Length: HTTP gives these none
        }
        context.Response.ContentLength = body.Length;
        // Kestrel copies the bytes into its output pipe before the write completes: the buffer can go back after.
        return context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    public override ValueTask StartStreamAsync(Http1Connection answer, string endpoint)
    {
        CopyHeaders(answer, endpoint);
        context.Response.Headers.CacheControl = "no-cache";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        return new ValueTask(context.Response.StartAsync(context.RequestAborted));
    }

    public override async ValueTask WriteStreamAsync(ReadOnlyMemory<byte> piece)
    {
        await context.Response.Body.WriteAsync(piece, context.RequestAborted).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    public override ValueTask EndStreamAsync() => ValueTask.CompletedTask; // Kestrel ends the response when the request returns

    public override void Abort() => context.Abort();

    private void CopyHeaders(Http1Connection answer, string endpoint)
    {
        var headers = context.Response.Headers;
        context.Response.StatusCode = answer.Status;
        if (answer.ContentType is { } type)
        {
            headers.ContentType = type;
        }
        var kept = answer.Kept;
        for (var i = 0; i < kept.Length; i++)
        {
            if (kept[i] is { } value)
            {
                headers[Http1AnswerHead.KeptHeaders[i]] = value;
            }
        }
        headers["x-atoll-endpoint"] = endpoint;
    }
}
