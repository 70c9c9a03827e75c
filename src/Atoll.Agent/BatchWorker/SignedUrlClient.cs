using System.Net;
using System.Net.Http.Headers;
using Atoll.Core.Contracts;

namespace Atoll.Agent.BatchWorker;

/// <summary>
/// Reads chunk input and writes chunk results through the signed URLs of a lease. The URLs carry their own
/// authorization, so the <see cref="HttpClient"/> must send none (never the node credential), and errors never
/// quote a URL (its query is the signature).
/// </summary>
internal sealed class SignedUrlClient(HttpClient http)
{
    /// <summary>Transfers cross WAN links and may be megabytes: longer than a control-plane call.</summary>
    public static readonly TimeSpan TransferTimeout = TimeSpan.FromMinutes(2);

    private static readonly MediaTypeHeaderValue NdJson = new("application/x-ndjson");

    /// <summary>
    /// The chunk's bytes: a ranged GET answered with 206, or with 200 and the whole object (then the range is cut
    /// out here). Non-2xx answers throw <see cref="HttpRequestException"/> with the status.
    /// </summary>
    public async Task<byte[]> ReadChunkAsync(LeaseGrant lease, CancellationToken ct)
    {
        var length = lease.EndOffset - lease.StartOffset;
        if (length <= 0)
        {
            return [];
        }
        using var message = new HttpRequestMessage(HttpMethod.Get, lease.InputUrl);
        message.Headers.Range = new RangeHeaderValue(lease.StartOffset, lease.EndOffset - 1);
        using var deadline = Deadline(ct);
        try
        {
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
            var skip = response.StatusCode switch
            {
                HttpStatusCode.PartialContent => response.Content.Headers.ContentRange?.From is { } from ? lease.StartOffset - from : 0,
                HttpStatusCode.OK => lease.StartOffset,
                _ => throw new HttpRequestException($"chunk input answered HTTP {(int)response.StatusCode}", null, response.StatusCode),
            };
            if (skip < 0)
            {
                throw new HttpRequestException("chunk input answered a range that starts after the chunk", null, response.StatusCode);
            }
            var stream = await response.Content.ReadAsStreamAsync(deadline.Token).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                return await ReadRangeAsync(stream, skip, length, deadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"chunk input not read within {TransferTimeout.TotalSeconds:F0}s", e);
        }
    }

    /// <summary>PUTs the result JSONL; non-2xx answers throw <see cref="HttpRequestException"/> with the status.</summary>
    public async Task UploadResultAsync(Uri resultUrl, byte[] jsonl, CancellationToken ct)
    {
        using var content = new ByteArrayContent(jsonl);
        content.Headers.ContentType = NdJson;
        using var message = new HttpRequestMessage(HttpMethod.Put, resultUrl) { Content = content };
        using var deadline = Deadline(ct);
        try
        {
            using var response = await http.SendAsync(message, deadline.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"result upload answered HTTP {(int)response.StatusCode}", null, response.StatusCode);
            }
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"result not uploaded within {TransferTimeout.TotalSeconds:F0}s", e);
        }
    }

    /// <summary>True for answers that a retry cannot change (4xx other than 408/429): an expired or bad signature.</summary>
    public static bool IsPermanent(HttpRequestException e) =>
        e.StatusCode is { } s && (int)s is >= 400 and < 500 && s is not (HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests);

    private static CancellationTokenSource Deadline(CancellationToken ct)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(TransferTimeout);
        return deadline;
    }

    private static async Task<byte[]> ReadRangeAsync(Stream stream, long skip, long length, CancellationToken ct)
    {
        var scratch = new byte[81920];
        while (skip > 0)
        {
            var n = await stream.ReadAsync(scratch.AsMemory(0, (int)Math.Min(scratch.Length, skip)), ct).ConfigureAwait(false);
            if (n == 0)
            {
                throw new HttpRequestException("chunk input ended before the chunk started");
            }
            skip -= n;
        }
        var chunk = new byte[length];
        var read = 0;
        while (read < length)
        {
            var n = await stream.ReadAsync(chunk.AsMemory(read), ct).ConfigureAwait(false);
            if (n == 0)
            {
                throw new HttpRequestException($"chunk input ended after {read} of {length} bytes");
            }
            read += n;
        }
        return chunk;
    }
}
