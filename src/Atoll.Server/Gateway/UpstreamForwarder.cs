using System.Buffers;
using System.Net.Http.Headers;
using System.Text;
using Atoll.Core.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
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
    private static readonly string[] CopiedResponseHeaders = ["Content-Type", "x-request-id", "openai-processing-ms", "x-atoll-instance"];

    public async Task<AttemptResult> ForwardAsync(
        HttpContext context, RoutableEndpoint endpoint, string path, ReadOnlyMemory<byte> body, bool stream, Action onFirstByte)
    {
        var settings = options.Value;
        var clientGone = context.RequestAborted;
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint.Url, path))
        {
            Content = new ReadOnlyMemoryContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (stream)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        }

        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(clientGone);
        attempt.CancelAfter(settings.FirstByteTimeout);
        HttpResponseMessage response;
        try
        {
            response = await clients.Requests.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attempt.Token).ConfigureAwait(false);
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
                ? await StreamAsync(context, endpoint, response, onFirstByte).ConfigureAwait(false)
                : await BufferAsync(context, endpoint, response, attempt, onFirstByte).ConfigureAwait(false);
        }
    }

    private async Task<AttemptResult> BufferAsync(
        HttpContext context, RoutableEndpoint endpoint, HttpResponseMessage response, CancellationTokenSource attempt, Action onFirstByte)
    {
        var settings = options.Value;
        attempt.CancelAfter(settings.ResponseTimeout);
        byte[] content;
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
        onFirstByte();
        CopyHeaders(context, endpoint, response);
        context.Response.ContentLength = content.Length;
        await context.Response.Body.WriteAsync(content, context.RequestAborted).ConfigureAwait(false);
        return new AttemptResult(AttemptOutcome.Answered, (int)response.StatusCode, null, Usage.CompletionTokens(content));
    }

    private async Task<AttemptResult> StreamAsync(HttpContext context, RoutableEndpoint endpoint, HttpResponseMessage response, Action onFirstByte)
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
                        onFirstByte();
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
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var name in CopiedResponseHeaders)
        {
            if (response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }
        context.Response.Headers["x-atoll-endpoint"] = endpoint.Id;
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpContent content, long max, CancellationToken ct)
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
                // The usual case: one exact allocation, and a short read means the backend broke off.
                var exact = new byte[length];
                await stream.ReadExactlyAsync(exact, ct).ConfigureAwait(false);
                return exact;
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
            return memory.ToArray();
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
