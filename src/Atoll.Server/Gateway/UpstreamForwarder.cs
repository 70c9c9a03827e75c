using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Atoll.Core.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Atoll.Server.Gateway;

/// <summary>
/// Sends one attempt of a request to one endpoint. Non-streaming answers are read whole before anything is sent
/// to the client, so a backend that dies mid-body is retried instead of producing a 200 with a broken body.
/// Streams are copied chunk by chunk with a flush per chunk (never buffered); a backend failing mid-stream ends
/// the stream with an OpenAI-style error event. The client going away cancels the upstream request.
/// </summary>
internal sealed class UpstreamForwarder(UpstreamClients clients, IOptions<GatewayOptions> options)
{
    /// <summary>
    /// One attempt. The request is the client's body as it came (nothing is re-serialized) with the fewest headers
    /// a model server needs; the target URL and its request head are built once per endpoint and route.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<AttemptResult> ForwardAsync(
        GatewayClient client, RoutableEndpoint endpoint, string path, byte[] body, bool stream, TimeSpan firstByteTimeout, FirstByteTimer firstByte,
        int? maxTokens)
    {
        var clientGone = client.Aborted;
        var attempt = client.BeginAttempt(firstByteTimeout);
        try
        {
            Http1Connection answer;
            try
            {
                answer = await clients.Requests.Target(endpoint.Resolve(path)).ExchangeAsync(body, stream, attempt.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (clientGone.IsCancellationRequested)
            {
                return new AttemptResult(AttemptOutcome.ClientGone, 0);
            }
            catch (OperationCanceledException)
            {
                return AttemptResult.Retry($"no response within {firstByteTimeout.TotalSeconds:0.#}s");
            }
            catch (UpstreamException e) when (e.Connecting)
            {
                return AttemptResult.Retry($"cannot connect: {e.Message}");
            }
            catch (Exception e) when (e is IOException or SocketException)
            {
                return AttemptResult.Retry(e.Message);
            }

            try
            {
                var status = answer.Status;
                if (status >= 500 || status == StatusCodes.Status429TooManyRequests)
                {
                    return AttemptResult.Retry($"answered {status}", status);
                }
                // A stream needs a body: a 204 or 304 (a model server's mistake; done at once after its head) goes on
                // bodiless, as any answer would.
                return stream && answer.IsEventStream && !answer.BodyDone
                    ? await StreamAsync(client, endpoint, answer, firstByte, maxTokens).ConfigureAwait(false)
                    : await BufferAsync(client, endpoint, answer, attempt, firstByte).ConfigureAwait(false);
            }
            finally
            {
                answer.Release();
            }
        }
        finally
        {
            client.EndAttempt(attempt);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<AttemptResult> BufferAsync(
        GatewayClient client, RoutableEndpoint endpoint, Http1Connection answer, CancellationTokenSource attempt, FirstByteTimer firstByte)
    {
        var settings = options.Value;
        var content = new PooledBody();
        try
        {
            if (answer.ContentLength <= settings.MaxResponseBytes && answer.TryTakeWhole(out var whole))
            {
                content = new PooledBody(whole, null); // all here with its head: no read, no time limit to set
            }
            else
            {
                attempt.CancelAfter(settings.ResponseTimeout);
                content = await ReadBoundedAsync(answer, settings.MaxResponseBytes, attempt.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (client.Aborted.IsCancellationRequested)
        {
            return new AttemptResult(AttemptOutcome.ClientGone, 0);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            return AttemptResult.Retry($"answer broke off: {e.Message}", answer.Status);
        }
        if (answer.CloseDelimited && answer.Status < 300 && IsJson(answer.ContentType) && !IsWholeJson(content.Memory.Span))
        {
            // Ended by the close with no length to check against: only the JSON itself tells a finished answer from one
            // cut short by a dying server, and a 200 with half a body must never reach the client.
            content.Return();
            return AttemptResult.Retry("answer broke off: the connection closed before its JSON was complete", answer.Status);
        }
        try
        {
            if (answer.Status < 300)
            {
                firstByte.Observe(); // a model server's 4xx (a bad parameter) is no token: it would flatter the histogram
            }
            // Both clients copy the bytes into their output before the write completes: the buffer can go back after.
            await client.WriteAnswerAsync(answer, endpoint.Name, content.Memory).ConfigureAwait(false);
            return new AttemptResult(AttemptOutcome.Answered, answer.Status, null, Usage.CompletionTokens(content.Memory.Span));
        }
        finally
        {
            content.Return();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<AttemptResult> StreamAsync(
        GatewayClient client, RoutableEndpoint endpoint, Http1Connection answer, FirstByteTimer firstByte, int? maxTokens)
    {
        var settings = options.Value;
        var events = 0;
        var first = true;
        // Every wait is the idle timeout or what is left of the whole stream's, whichever ends first.
        var limit = settings.StreamTimeoutFor(maxTokens);
        var began = Stopwatch.GetTimestamp();
        // Whether the wait set last ends at the limit rather than the idle timeout. The timer runs only while a read
        // waits (it is stopped during the write to the client, which a slow client may hold up), so the wait set
        // last is the one that ran out; and a timer may fire a little early, so the clock cannot tell.
        var waitIsLimit = false;
        try
        {
            await client.StartStreamAsync(answer, endpoint.Name).ConfigureAwait(false);
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(client.Aborted);
            while (true)
            {
                var left = limit - Stopwatch.GetElapsedTime(began);
                waitIsLimit = left < settings.StreamIdleTimeout;
                idle.CancelAfter(waitIsLimit ? (left > TimeSpan.Zero ? left : TimeSpan.Zero) : settings.StreamIdleTimeout);
                var piece = await answer.ReadAsync(idle.Token).ConfigureAwait(false);
                idle.CancelAfter(Timeout.InfiniteTimeSpan);
                if (piece.IsEmpty)
                {
                    await client.EndStreamAsync().ConfigureAwait(false);
                    return new AttemptResult(AttemptOutcome.Answered, answer.Status, null, events);
                }
                if (first)
                {
                    firstByte.Observe();
                    first = false;
                }
                events += CountEvents(piece.Span);
                await client.WriteStreamAsync(piece).ConfigureAwait(false);
            }
        }
        catch (Exception) when (client.Aborted.IsCancellationRequested)
        {
            // The tokens relayed so far count against the key's limit: leaving mid-stream is no way around it.
            return new AttemptResult(AttemptOutcome.ClientGone, answer.Status, null, events);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            // Past the limit the gateway ends the stream itself: a long generation is not the model server's failure.
            var timedOut = e is OperationCanceledException && waitIsLimit;
            var message = timedOut
                ? $"the gateway ended the stream from {endpoint.Name} after {limit.TotalSeconds:0.#}s, the longest {StreamLimitFor(maxTokens)}; the answer is incomplete"
                : $"the model server {endpoint.Name} failed mid-stream ({(e is OperationCanceledException ? $"no data for {settings.StreamIdleTimeout.TotalSeconds:0.#}s" : e.Message)}); the answer is incomplete";
            try
            {
                await client.WriteStreamAsync(Encoding.UTF8.GetBytes(OpenAiErrors.StreamEvent(message, timedOut ? "stream_timeout" : "upstream_failed"))).ConfigureAwait(false);
                // Then cut the connection instead of ending the response cleanly: clients that ignore error events
                // (the official .NET SDK does) must see a failure, never a short answer that looks complete. The
                // pause lets the event leave before the reset.
                await Task.Delay(50, CancellationToken.None).ConfigureAwait(false);
                client.Abort();
            }
            catch (Exception) when (client.Aborted.IsCancellationRequested)
            {
                return new AttemptResult(AttemptOutcome.ClientGone, answer.Status, null, events);
            }
            return new AttemptResult(timedOut ? AttemptOutcome.StreamTimedOut : AttemptOutcome.StreamBroken, answer.Status, message, events);
        }
    }

    /// <summary>What a stream's time limit is for, in words, to end "the longest ..." in its error event.</summary>
    private string StreamLimitFor(int? maxTokens)
    {
        var settings = options.Value;
        return settings.StreamTimeoutFor(maxTokens) < settings.StreamTimeout
            ? $"a stream of max_tokens {maxTokens} may take at {settings.MinTokensPerSecond} tokens/s"
            : "a stream may take on this gateway";
    }

    /// <summary>
    /// The whole answer, read before anything is sent so a broken body is retried, never a 200 with half a body.
    /// The usual small answer arrives with its head and is used where it lies, in the connection's buffer.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<PooledBody> ReadBoundedAsync(Http1Connection answer, long max, CancellationToken ct)
    {
        if (answer.ContentLength > max)
        {
            throw new IOException($"answer of {answer.ContentLength} bytes is over the gateway's limit of {max}");
        }
        var piece = await answer.ReadAsync(ct).ConfigureAwait(false);
        if (answer.BodyDone)
        {
            return new PooledBody(piece, null);
        }
        // Sized to what came, not to what the head claims: a model server's "Content-Length: 67108864" and then
        // silence must not hold 64 MB per request. The buffer doubles as the bytes arrive.
        var collected = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(answer.ContentLength ?? 0, 16 * 1024, 1024 * 1024));
        var length = 0;
        try
        {
            while (!piece.IsEmpty)
            {
                if (length + piece.Length > max)
                {
                    throw new IOException($"answer is over the gateway's limit of {max} bytes");
                }
                if (length + piece.Length > collected.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(max, Math.Max(collected.Length * 2L, length + piece.Length)));
                    collected.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(collected);
                    collected = larger;
                }
                piece.Span.CopyTo(collected.AsSpan(length));
                length += piece.Length;
                piece = await answer.ReadAsync(ct).ConfigureAwait(false);
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(collected);
            throw;
        }
        return new PooledBody(collected.AsMemory(0, length), collected);
    }

    /// <summary>An answer body, in a buffer borrowed from the shared pool or in the connection's own.</summary>
    private readonly struct PooledBody(ReadOnlyMemory<byte> memory, byte[]? pooled)
    {
        public int Length => memory.Length;

        public ReadOnlyMemory<byte> Memory => memory;

        public void Return()
        {
            if (pooled is not null)
            {
                ArrayPool<byte>.Shared.Return(pooled);
            }
        }
    }

    private static bool IsJson(string? contentType) =>
        contentType is not null && contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether <paramref name="body"/> is one whole JSON value (whitespace around it allowed).</summary>
    internal static bool IsWholeJson(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            return reader.Read() && reader.TrySkip() && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>SSE events ("data:" lines) in a chunk: about one token each.</summary>
    private static int CountEvents(ReadOnlySpan<byte> chunk)
    {
        var count = 0;
        int at;
        while ((at = chunk.IndexOf("data:"u8)) >= 0)
        {
            count++;
            chunk = chunk[(at + 5)..];
        }
        return count;
    }
}
