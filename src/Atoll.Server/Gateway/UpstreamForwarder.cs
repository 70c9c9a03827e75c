using System.Buffers;
using System.Net.Http.Headers;
using System.Text;
using Atoll.Core.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Atoll.Server.Gateway;

/// <summary>
/// Sends one attempt of a request to one endpoint. Non-streaming answers are read whole before anything is sent
/// to the client, so a backend that dies mid-body is retried instead of producing a 200 with a broken body.
/// Streams are copied chunk by chunk with a flush per chunk (never buffered); a backend failing mid-stream ends
/// the stream with an OpenAI-style error event. The client going away cancels the upstream request.
/// </summary>
internal sealed class UpstreamForwarder(UpstreamClients clients, IOptions<GatewayOptions> options)
{
    private static readonly string[] CopiedResponseHeaders = ["x-request-id", "openai-processing-ms", "x-atoll-instance"];

    /// <summary>
    /// One attempt. The request is the client's body as it came (nothing is re-serialized) with the fewest headers
    /// a model server needs; the target URL is resolved once per endpoint and route.
    /// </summary>
    public async Task<AttemptResult> ForwardAsync(
        HttpContext context, RoutableEndpoint endpoint, string path, byte[] body, bool stream, FirstByteTimer firstByte)
    {
        var settings = options.Value;
        var clientGone = context.RequestAborted;
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Resolve(path)) { Content = new ByteArrayContent(body) };
        // Unvalidated: the values are constant and valid, and stored as given they are written without parsing.
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        if (stream)
        {
            request.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
        }

        var attempt = AttemptCancellation.Rent(settings.FirstByteTimeout, clientGone);
        try
        {
            HttpResponseMessage response;
            try
            {
                response = await clients.Requests.SendAsync(request, attempt.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (clientGone.IsCancellationRequested)
            {
                return new AttemptResult(AttemptOutcome.ClientGone, 0);
            }
            catch (OperationCanceledException)
            {
                return AttemptResult.Retry($"no response within {settings.FirstByteTimeout.TotalSeconds:0.#}s");
            }
            catch (HttpRequestException e)
            {
                return AttemptResult.Retry(e.HttpRequestError == HttpRequestError.ConnectionError ? $"cannot connect: {e.Message}" : e.Message);
            }

            using (response)
            {
                var status = (int)response.StatusCode;
                if (status >= 500 || status == StatusCodes.Status429TooManyRequests)
                {
                    return AttemptResult.Retry($"answered {status}", status);
                }
                var isStream = stream && response.Content.Headers.ContentType?.MediaType == "text/event-stream";
                return isStream
                    ? await StreamAsync(context, endpoint, response, firstByte).ConfigureAwait(false)
                    : await BufferAsync(context, endpoint, response, attempt, firstByte).ConfigureAwait(false);
            }
        }
        finally
        {
            attempt.Return();
        }
    }

    private async Task<AttemptResult> BufferAsync(
        HttpContext context, RoutableEndpoint endpoint, HttpResponseMessage response, CancellationTokenSource attempt, FirstByteTimer firstByte)
    {
        var settings = options.Value;
        attempt.CancelAfter(settings.ResponseTimeout);
        PooledBody content;
        try
        {
            content = await ReadBoundedAsync(response.Content, settings.MaxResponseBytes, attempt.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return new AttemptResult(AttemptOutcome.ClientGone, 0);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            return AttemptResult.Retry($"answer broke off: {e.Message}", (int)response.StatusCode);
        }
        try
        {
            firstByte.Observe();
            CopyHeaders(context, endpoint, response);
            context.Response.ContentLength = content.Length;
            // Kestrel copies the bytes into its output pipe before the write completes: the buffer can go back after.
            await context.Response.Body.WriteAsync(content.Memory, context.RequestAborted).ConfigureAwait(false);
            return new AttemptResult(AttemptOutcome.Answered, (int)response.StatusCode, null, Usage.CompletionTokens(content.Memory.Span));
        }
        finally
        {
            content.Return();
        }
    }

    private async Task<AttemptResult> StreamAsync(HttpContext context, RoutableEndpoint endpoint, HttpResponseMessage response, FirstByteTimer firstByte)
    {
        var settings = options.Value;
        CopyHeaders(context, endpoint, response);
        context.Response.Headers.CacheControl = "no-cache";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await context.Response.StartAsync(context.RequestAborted).ConfigureAwait(false);

        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        var events = 0;
        var first = true;
        try
        {
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            var upstream = await response.Content.ReadAsStreamAsync(idle.Token).ConfigureAwait(false);
            await using (upstream.ConfigureAwait(false))
            {
                while (true)
                {
                    idle.CancelAfter(settings.StreamIdleTimeout);
                    var read = await upstream.ReadAsync(buffer, idle.Token).ConfigureAwait(false);
                    if (read == 0)
                    {
                        return new AttemptResult(AttemptOutcome.Answered, (int)response.StatusCode, null, events);
                    }
                    if (first)
                    {
                        firstByte.Observe();
                        first = false;
                    }
                    events += CountEvents(buffer.AsSpan(0, read));
                    await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted).ConfigureAwait(false);
                    await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
                }
            }
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            return new AttemptResult(AttemptOutcome.ClientGone, (int)response.StatusCode);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            var reason = e is OperationCanceledException ? $"no data for {settings.StreamIdleTimeout.TotalSeconds:0.#}s" : e.Message;
            var message = $"the model server {endpoint.Id} failed mid-stream ({reason}); the answer is incomplete";
            try
            {
                await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(OpenAiErrors.StreamEvent(message, "upstream_failed")), context.RequestAborted).ConfigureAwait(false);
                await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
                // Then cut the connection instead of ending the response cleanly: clients that ignore error events
                // (the official .NET SDK does) must see a failure, never a short answer that looks complete. The
                // pause lets the event leave before the reset.
                await Task.Delay(50, CancellationToken.None).ConfigureAwait(false);
                context.Abort();
            }
            catch (Exception) when (context.RequestAborted.IsCancellationRequested)
            {
                return new AttemptResult(AttemptOutcome.ClientGone, (int)response.StatusCode);
            }
            return new AttemptResult(AttemptOutcome.StreamBroken, (int)response.StatusCode, message, events);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void CopyHeaders(HttpContext context, RoutableEndpoint endpoint, HttpResponseMessage response)
    {
        // Read unvalidated, as the upstream sent them: nothing is parsed or re-formatted on the way through.
        var headers = context.Response.Headers;
        context.Response.StatusCode = (int)response.StatusCode;
        if (response.Content.Headers.NonValidated.TryGetValues("Content-Type", out var type))
        {
            headers.ContentType = Values(type);
        }
        foreach (var name in CopiedResponseHeaders)
        {
            if (response.Headers.NonValidated.TryGetValues(name, out var values))
            {
                headers[name] = Values(values);
            }
        }
        headers["x-atoll-endpoint"] = endpoint.Id;
    }

    private static StringValues Values(HeaderStringValues values) =>
        values.Count == 1 ? new StringValues(values.ToString()) : new StringValues([.. values]);

    /// <summary>
    /// The whole answer, read before anything is sent so a broken body is retried, never a 200 with half a body.
    /// With a Content-Length (the usual case) it lands in one pooled buffer.
    /// </summary>
    private static async Task<PooledBody> ReadBoundedAsync(HttpContent content, long max, CancellationToken ct)
    {
        var declared = content.Headers.ContentLength;
        if (declared > max)
        {
            throw new IOException($"answer of {declared} bytes is over the gateway's limit of {max}");
        }
        var stream = await content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            if (declared is { } length)
            {
                // A short read means the backend broke off (ReadExactly throws).
                var exact = ArrayPool<byte>.Shared.Rent((int)length);
                try
                {
                    await stream.ReadExactlyAsync(exact.AsMemory(0, (int)length), ct).ConfigureAwait(false);
                }
                catch
                {
                    ArrayPool<byte>.Shared.Return(exact);
                    throw;
                }
                return new PooledBody(exact, (int)length, pooled: true);
            }
            using var memory = new MemoryStream(4096);
            var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                int read;
                while ((read = await stream.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                {
                    if (memory.Length + read > max)
                    {
                        throw new IOException($"answer is over the gateway's limit of {max} bytes");
                    }
                    memory.Write(buffer, 0, read);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            return new PooledBody(memory.GetBuffer(), (int)memory.Length, pooled: false);
        }
    }

    /// <summary>An answer body in a buffer that may be borrowed from the shared pool.</summary>
    private readonly struct PooledBody(byte[] array, int length, bool pooled)
    {
        public int Length => length;

        public ReadOnlyMemory<byte> Memory => array.AsMemory(0, length);

        public void Return()
        {
            if (pooled)
            {
                ArrayPool<byte>.Shared.Return(array);
            }
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
