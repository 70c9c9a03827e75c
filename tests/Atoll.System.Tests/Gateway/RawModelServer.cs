using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Atoll.System.Tests.Gateway;

/// <summary>
/// A model server written byte by byte, for answers no real one gives (a sim cannot be made to misbehave this way):
/// <c>answer</c> maps each request head (request line first) to the raw bytes to send back and how long to wait
/// before sending them; null closes the connection. Keep-alive connections, requests read by Content-Length.
/// </summary>
internal sealed class RawModelServer : IDisposable
{
    private readonly TcpListener listener;
    private readonly Func<string, (TimeSpan Delay, string? Reply)> answer;
    private readonly Func<Socket, Task>? stream;

    private RawModelServer(Func<string, (TimeSpan Delay, string? Reply)> answer, Func<Socket, Task>? stream = null)
    {
        this.answer = answer;
        this.stream = stream;
        listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        _ = AcceptAsync();
    }

    public string Url => $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";

    /// <summary>Answers GET /health with 200 (after <paramref name="healthDelay"/>) and everything else as <paramref name="answer"/> says.</summary>
    public static RawModelServer Start(Func<string, (TimeSpan Delay, string? Reply)> answer, TimeSpan healthDelay = default) =>
        new(head => head.StartsWith("GET /health ", StringComparison.Ordinal) ? (healthDelay, Ok("ok")) : answer(head));

    /// <summary>
    /// Answers every POST with the head of an event stream and then an SSE comment every <paramref name="every"/>
    /// (never a token, never an end), until the gateway lets go; <see cref="TimeSpan.MaxValue"/> sends the head only.
    /// </summary>
    public static RawModelServer StartTrickling(TimeSpan every) => StartStreaming(socket => TrickleAsync(socket, every));

    /// <summary>
    /// Answers every POST with an event stream of <paramref name="pieces"/> SSE comments of <paramref name="size"/>
    /// 'x's each, as fast as the connection takes them, then <c>data: [DONE]</c> and the stream's end.
    /// </summary>
    public static RawModelServer StartFlooding(int pieces, int size) => StartStreaming(socket => FloodAsync(socket, pieces, size));

    private static RawModelServer StartStreaming(Func<Socket, Task> stream) =>
        new(head => head.StartsWith("GET /health ", StringComparison.Ordinal) ? (TimeSpan.Zero, Ok("ok")) : (TimeSpan.Zero, NotFound), stream);

    /// <summary>A 200 with <paramref name="body"/> and its Content-Length.</summary>
    public static string Ok(string body, string contentType = "text/plain") =>
        $"HTTP/1.1 200 OK\r\nContent-Type: {contentType}\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}";

    public const string NotFound = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";

    public void Dispose() => listener.Stop();

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                _ = ServeAsync(await listener.AcceptSocketAsync());
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using var _ = socket;
        var pending = new List<byte>();
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int end;
                while ((end = IndexOfHeadEnd(pending)) < 0)
                {
                    if (!await ReceiveAsync(socket, buffer, pending))
                    {
                        return;
                    }
                }
                var head = Encoding.ASCII.GetString([.. pending.Take(end)]);
                var lengthLine = head.Split("\r\n").FirstOrDefault(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
                var total = end + 4 + (lengthLine is null ? 0 : int.Parse(lengthLine[15..].Trim(), global::System.Globalization.CultureInfo.InvariantCulture));
                while (pending.Count < total)
                {
                    if (!await ReceiveAsync(socket, buffer, pending))
                    {
                        return;
                    }
                }
                pending.RemoveRange(0, total);
                if (stream is not null && head.StartsWith("POST ", StringComparison.Ordinal))
                {
                    await stream(socket);
                    return;
                }
                var (delay, reply) = answer(head);
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay);
                }
                if (reply is null)
                {
                    return;
                }
                await socket.SendAsync(Encoding.UTF8.GetBytes(reply), SocketFlags.None);
                if (CloseDelimited(reply))
                {
                    return; // its body ends where the connection does
                }
            }
        }
        catch (SocketException)
        {
        }
    }

    private static readonly byte[] StreamHead = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"u8.ToArray();

    private static byte[] Chunk(string data) => Encoding.ASCII.GetBytes($"{data.Length:x}\r\n{data}\r\n");

    private static async Task TrickleAsync(Socket socket, TimeSpan every)
    {
        await socket.SendAsync(StreamHead, SocketFlags.None);
        var comment = Chunk(": ping\n\n");
        var until = DateTime.UtcNow.AddSeconds(60); // a guard: the gateway lets go long before
        while (DateTime.UtcNow < until)
        {
            await Task.Delay(every == TimeSpan.MaxValue ? TimeSpan.FromSeconds(60) : every);
            await socket.SendAsync(comment, SocketFlags.None);
        }
    }

    private static async Task FloodAsync(Socket socket, int pieces, int size)
    {
        await socket.SendAsync(StreamHead, SocketFlags.None);
        var comment = Chunk($": {new string('x', size)}\n\n");
        for (var i = 0; i < pieces; i++)
        {
            await socket.SendAsync(comment, SocketFlags.None);
        }
        await socket.SendAsync(Chunk("data: [DONE]\n\n"), SocketFlags.None);
        await socket.SendAsync("0\r\n\r\n"u8.ToArray(), SocketFlags.None);
    }

    /// <summary>An answer with neither a length nor chunks, and a status that has a body: HTTP ends it by the close.</summary>
    private static bool CloseDelimited(string reply)
    {
        var head = reply[..Math.Max(0, reply.IndexOf("\r\n\r\n", StringComparison.Ordinal))];
        var status = reply.Length > 12 ? reply[9..12] : "";
        return !head.Contains("Content-Length:", StringComparison.OrdinalIgnoreCase)
            && !head.Contains("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase)
            && status is not ("204" or "304") && !status.StartsWith('1');
    }

    private static async Task<bool> ReceiveAsync(Socket socket, byte[] buffer, List<byte> pending)
    {
        var n = await socket.ReceiveAsync(buffer, SocketFlags.None);
        pending.AddRange(buffer.AsSpan(0, n));
        return n > 0;
    }

    private static int IndexOfHeadEnd(List<byte> bytes)
    {
        for (var i = 0; i + 4 <= bytes.Count; i++)
        {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n' && bytes[i + 2] == '\r' && bytes[i + 3] == '\n')
            {
                return i;
            }
        }
        return -1;
    }
}
