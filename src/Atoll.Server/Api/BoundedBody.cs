using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace Atoll.Server.Api;

/// <summary>Reads a request body into memory with a cap, for chunked bodies too (no Content-Length).</summary>
internal static class BoundedBody
{
    /// <summary>The body, or null when it is longer than <paramref name="max"/> bytes.</summary>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, long max, CancellationToken ct)
    {
        if (request.ContentLength > max)
        {
            return null;
        }
        // Grown as the bytes arrive: a declared length is not a reason to hold that much memory for a client that may send nothing.
        using var buffer = new MemoryStream(request.ContentLength is { } n ? (int)Math.Min(n, Gateway.RequestBodies.InitialBytes) : 4096);
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > max)
                {
                    return null;
                }
                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
        return buffer.ToArray();
    }
}
