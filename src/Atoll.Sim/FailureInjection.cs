using Microsoft.AspNetCore.Http;

namespace Atoll.Sim;

/// <summary>Carries out an injected failure that does not depend on the endpoint.</summary>
internal static class FailureInjection
{
    public const string Midstream = "midstream";

    /// <summary>
    /// Throws the error of an answering kind, waits forever for <c>hang</c>, or drops the connection for
    /// <c>reset</c> and returns true. Returns false for no failure and for <c>midstream</c>, which the endpoint does.
    /// </summary>
    public static async Task<bool> ApplyAsync(string? kind, HttpContext ctx, SimRuntime sim, CancellationToken ct)
    {
        switch (kind)
        {
            case null or Midstream:
                return false;
            case "500":
                throw OpenAiException.ServerError("Injected failure: internal server error (--failure-kinds 500).");
            case "429":
                throw OpenAiException.RateLimited("Injected failure: rate limit reached (--failure-kinds 429).");
            case "invalid":
                throw OpenAiException.Invalid("Injected failure: the request was rejected as invalid (--failure-kinds invalid).", null, "invalid_request");
            case "model-not-found":
                throw OpenAiException.ModelNotFound(sim.Options.Model);
            case "hang":
                await Task.Delay(Timeout.InfiniteTimeSpan, sim.Time, ct).ConfigureAwait(false);
                return true;
            case "reset":
                ctx.Abort();
                return true;
            default:
                throw new InvalidOperationException($"unknown failure kind {kind}");
        }
    }

    /// <summary>For a non-streaming answer: headers and half the body leave, then the connection drops.</summary>
    public static async Task WriteHalfAndAbortAsync(HttpContext ctx, ReadOnlyMemory<byte> body, CancellationToken ct)
    {
        ctx.Response.StatusCode = StatusCodes.Status200OK;
        ctx.Response.ContentType = "application/json";
        ctx.Response.ContentLength = body.Length;
        await ctx.Response.Body.WriteAsync(body[..(body.Length / 2)], ct).ConfigureAwait(false);
        await ctx.Response.Body.FlushAsync(ct).ConfigureAwait(false);
        await AbortAfterSendingAsync(ctx, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Drops the connection once what was flushed has had time to leave: a flush only hands bytes to Kestrel's
    /// output pipe, and an abort right after it can discard them, so the client would see no token at all.
    /// This wait is for the real socket, hence real time rather than the simulated clock. 50 ms was once too short
    /// for a loaded test machine (the client got a reset before the head); 200 ms.
    /// </summary>
    public static async Task AbortAfterSendingAsync(HttpContext ctx, CancellationToken ct)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(200), ct).ConfigureAwait(false);
        ctx.Abort();
    }
}
