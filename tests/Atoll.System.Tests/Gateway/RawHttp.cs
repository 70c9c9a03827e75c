using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Atoll.System.Tests.Gateway;

/// <summary>
/// HTTP/1.1 over a bare socket, reading the answer while the body is still being written: a server may refuse a
/// large upload early and close the connection, which makes <see cref="HttpClient"/> report only its failed write.
/// </summary>
internal static class RawHttp
{
    /// <summary>POSTs <paramref name="body"/> chunked to <paramref name="path"/>; returns the status and body of the answer.</summary>
    public static async Task<(HttpStatusCode Status, string Head, string Body)> PostChunkedAsync(int port, string path, string bearer, byte[] body)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var stream = tcp.GetStream();
        var head = $"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {bearer}\r\n"
            + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        var sending = Task.Run(async () =>
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
            const int chunk = 64 * 1024;
            for (var at = 0; at < body.Length; at += chunk)
            {
                var n = Math.Min(chunk, body.Length - at);
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"{n:x}\r\n"));
                await stream.WriteAsync(body.AsMemory(at, n));
                await stream.WriteAsync("\r\n"u8.ToArray());
            }
            await stream.WriteAsync("0\r\n\r\n"u8.ToArray());
        });

        var received = new MemoryStream();
        var buffer = new byte[8192];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                received.Write(buffer, 0, read);
                if (Complete(received))
                {
                    break;
                }
            }
        }
        catch (IOException)
        {
            // Reset after the answer: what arrived is what counts.
        }
        // The write side may fail once the server stops reading; that is allowed.
        await Record.ExceptionAsync(() => sending);

        var text = Encoding.UTF8.GetString(received.ToArray());
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(end > 0, $"no HTTP answer arrived; got: [{text}]");
        var status = (HttpStatusCode)int.Parse(text.Split(' ', 3)[1], global::System.Globalization.CultureInfo.InvariantCulture);
        return (status, text[..end], Unchunk(text[(end + 4)..], text[..end]));
    }

    private static bool Complete(MemoryStream received)
    {
        var text = Encoding.UTF8.GetString(received.ToArray());
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return false;
        }
        var length = text[..end].Split("\r\n").FirstOrDefault(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        return length is not null
            ? Encoding.UTF8.GetByteCount(text[(end + 4)..]) >= int.Parse(length[15..].Trim(), global::System.Globalization.CultureInfo.InvariantCulture)
            : text.EndsWith("0\r\n\r\n", StringComparison.Ordinal);
    }

    private static string Unchunk(string body, string head)
    {
        if (!head.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase))
        {
            return body;
        }
        var result = new StringBuilder();
        var at = 0;
        while (at < body.Length)
        {
            var eol = body.IndexOf("\r\n", at, StringComparison.Ordinal);
            if (eol < 0)
            {
                break;
            }
            var size = Convert.ToInt32(body[at..eol], 16);
            if (size == 0 || eol + 2 + size > body.Length)
            {
                break;
            }
            result.Append(body, eol + 2, size);
            at = eol + 2 + size + 2;
        }
        return result.ToString();
    }
}
