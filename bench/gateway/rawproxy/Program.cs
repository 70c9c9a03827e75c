using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

// A benchmark experiment, not Atoll: the least a .NET proxy can do per forwarded chat request without Kestrel.
// HTTP/1.1 keep-alive on raw sockets, Content-Length bodies only, one upstream connection per client connection,
// the model read from the JSON body (as the gateway does), no auth, picking, retries or metrics. Run it with
// DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 (continuations on the event threads, as the gateway's InlineIo).
//   rawproxy LISTEN-PORT UPSTREAM-PORT        (both on 127.0.0.1; bench/gateway/rawproxy.sh runs it)
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: rawproxy LISTEN-PORT UPSTREAM-PORT");
    return 2;
}
var listenPort = int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture);
var up = new IPEndPoint(IPAddress.Loopback, int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture));
var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
listener.Bind(new IPEndPoint(IPAddress.Loopback, listenPort));
listener.Listen(1024);
Console.WriteLine("listening");
while (true)
{
    var client = await listener.AcceptAsync();
    client.NoDelay = true;
    _ = Task.Run(() => Serve(client, up));
}

static int IndexOfHeadEnd(ReadOnlySpan<byte> s) => s.IndexOf("\r\n\r\n"u8);

static int ContentLength(ReadOnlySpan<byte> head)
{
    var i = head.IndexOf("\r\nContent-Length:"u8);
    if (i < 0) i = head.IndexOf("\r\ncontent-length:"u8);
    if (i < 0) return 0;
    var rest = head[(i + 17)..];
    var end = rest.IndexOf("\r\n"u8);
    var v = rest[..(end < 0 ? rest.Length : end)].Trim((byte)' ');
    return int.Parse(Encoding.ASCII.GetString(v), System.Globalization.CultureInfo.InvariantCulture);
}

static async Task Serve(Socket client, IPEndPoint up)
{
    var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    await upstream.ConnectAsync(up);
    var cbuf = new byte[16384]; var clen = 0;
    var ubuf = new byte[16384]; var ulen = 0;
    var outb = new byte[16384];
    try
    {
        while (true)
        {
            // request head + body
            int headEnd;
            while ((headEnd = IndexOfHeadEnd(cbuf.AsSpan(0, clen))) < 0)
            {
                var n = await client.ReceiveAsync(cbuf.AsMemory(clen), SocketFlags.None);
                if (n == 0) return;
                clen += n;
            }
            var bodyStart = headEnd + 4;
            var blen = ContentLength(cbuf.AsSpan(0, headEnd + 2));
            while (clen < bodyStart + blen)
            {
                var n = await client.ReceiveAsync(cbuf.AsMemory(clen), SocketFlags.None);
                if (n == 0) return;
                clen += n;
            }
            // parse model (as the gateway does)
            var reader = new Utf8JsonReader(cbuf.AsSpan(bodyStart, blen));
            string? model = null;
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("model"u8))
                {
                    reader.Read(); model = reader.GetString();
                }
            }
            if (model is null) throw new InvalidOperationException("no model");
            // forward: fixed head + body in one write
            var head = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "u8;
            head.CopyTo(outb);
            var o = head.Length;
            o += Encoding.ASCII.GetBytes(blen.ToString(System.Globalization.CultureInfo.InvariantCulture), outb.AsSpan(o));
            "\r\n\r\n"u8.CopyTo(outb.AsSpan(o)); o += 4;
            cbuf.AsSpan(bodyStart, blen).CopyTo(outb.AsSpan(o)); o += blen;
            await upstream.SendAsync(outb.AsMemory(0, o), SocketFlags.None);
            // consume request from client buffer
            var used = bodyStart + blen;
            Buffer.BlockCopy(cbuf, used, cbuf, 0, clen - used); clen -= used;
            // response
            int uhe;
            while ((uhe = IndexOfHeadEnd(ubuf.AsSpan(0, ulen))) < 0)
            {
                var n = await upstream.ReceiveAsync(ubuf.AsMemory(ulen), SocketFlags.None);
                if (n == 0) return;
                ulen += n;
            }
            var rlen = ContentLength(ubuf.AsSpan(0, uhe + 2));
            while (ulen < uhe + 4 + rlen)
            {
                var n = await upstream.ReceiveAsync(ubuf.AsMemory(ulen), SocketFlags.None);
                if (n == 0) return;
                ulen += n;
            }
            var rhead = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nx-atoll-endpoint: sim-1\r\nContent-Length: "u8;
            rhead.CopyTo(outb); o = rhead.Length;
            o += Encoding.ASCII.GetBytes(rlen.ToString(System.Globalization.CultureInfo.InvariantCulture), outb.AsSpan(o));
            "\r\n\r\n"u8.CopyTo(outb.AsSpan(o)); o += 4;
            ubuf.AsSpan(uhe + 4, rlen).CopyTo(outb.AsSpan(o)); o += rlen;
            await client.SendAsync(outb.AsMemory(0, o), SocketFlags.None);
            var uused = uhe + 4 + rlen;
            Buffer.BlockCopy(ubuf, uused, ubuf, 0, ulen - uused); ulen -= uused;
        }
    }
    catch (Exception e) when (e is SocketException or IOException) { }
    finally { client.Dispose(); upstream.Dispose(); }
}
