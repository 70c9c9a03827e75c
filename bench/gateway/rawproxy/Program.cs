using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Buffers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// A benchmark experiment, not Atoll: the least a .NET proxy can do per forwarded chat request, in three forms.
// HTTP/1.1 keep-alive, Content-Length bodies only, one upstream connection (raw socket) per client connection,
// the model read from the JSON body (as the gateway does), no auth, picking, retries or metrics. Run it with
// DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 (continuations on the event threads, as the gateway's InlineIo).
//   rawproxy LISTEN-PORT UPSTREAM-PORT        (both on 127.0.0.1; bench/gateway/rawproxy.sh runs it)
// RAW_MODE: raw (default) serves clients on raw sockets, no Kestrel; watch is raw plus a receive kept pending on the
// client socket while a request is served (how a proxy notices a client that leaves, to cancel its upstream request:
// Atoll must, raw does not), whose bytes start the next request; conn serves them as a Kestrel connection
// middleware on Kestrel's transport pipes (as Atoll's Http1Front does); http is a Kestrel app (app.Run) with
// Kestrel's HTTP/1.1 parsing and HttpContext; epoll (Epoll.cs) is raw sockets on an epoll loop of its own, without
// .NET's socket layer; econn is conn on a Kestrel transport of its own over such a loop (EpollTransport.cs); efull is
// econn with the model-server connections on the same loops.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: rawproxy LISTEN-PORT UPSTREAM-PORT");
    return 2;
}
var mode = Environment.GetEnvironmentVariable("RAW_MODE") ?? "raw";
var listenPort = int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture);
var up = new IPEndPoint(IPAddress.Loopback, int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture));
if (mode == "epoll")
{
    return EpollProxy.Run(listenPort, up.Port);
}
if (mode is not ("raw" or "watch"))
{
    var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
    builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = true);
    builder.Logging.ClearProviders();
    if (mode is "econn" or "efull")
    {
        builder.Services.AddSingleton<IConnectionListenerFactory, EpollTransportFactory>(); // the last one registered is used
    }
    builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, listenPort, lo =>
    {
        if (mode is "conn" or "econn" or "efull") lo.Use(next => ctx => ServePipe(ctx, up));
    }));
    var app = builder.Build();
    app.Run(ctx => ServeHttp(ctx, up));
    Console.WriteLine("listening " + mode);
    await app.RunAsync();
    return 0;
}
var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
listener.Bind(new IPEndPoint(IPAddress.Loopback, listenPort));
listener.Listen(1024);
Console.WriteLine("listening");
while (true)
{
    var client = await listener.AcceptAsync();
    client.NoDelay = true;
    _ = Task.Run(() => Serve(client, up, watch: mode == "watch"));
}

static int IndexOfHeadEnd(ReadOnlySpan<byte> s) => s.IndexOf("\r\n\r\n"u8);

static int ContentLength(ReadOnlySpan<byte> head) => Wire.ContentLength(head);

static async Task Serve(Socket client, IPEndPoint up, bool watch)
{
    var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    await upstream.ConnectAsync(up);
    var cbuf = new byte[16384]; var clen = 0;
    var ubuf = new byte[16384]; var ulen = 0;
    var outb = new byte[16384];
    var pending = default(ValueTask<int>);
    var watching = false;
    using var gone = new CancellationTokenSource(); // a real proxy cancels the upstream request with this
    try
    {
        while (true)
        {
            // request head + body
            int headEnd;
            while ((headEnd = IndexOfHeadEnd(cbuf.AsSpan(0, clen))) < 0)
            {
                int n;
                if (watching)
                {
                    n = await pending; // the watch's bytes start the next request
                    watching = false;
                }
                else
                {
                    n = await client.ReceiveAsync(cbuf.AsMemory(clen), SocketFlags.None);
                }
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
            // consume request from client buffer
            var used = bodyStart + blen;
            Buffer.BlockCopy(cbuf, used, cbuf, 0, clen - used); clen -= used;
            if (watch && IndexOfHeadEnd(cbuf.AsSpan(0, clen)) < 0)
            {
                pending = Watch(client, cbuf, clen, gone);
                watching = true;
            }
            await upstream.SendAsync(outb.AsMemory(0, o), SocketFlags.None);
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

// The receive kept pending while a request is served: 0 bytes (or an error) means the client left.
[System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
static async ValueTask<int> Watch(Socket client, byte[] buf, int at, CancellationTokenSource gone)
{
    try
    {
        var n = await client.ReceiveAsync(buf.AsMemory(at), SocketFlags.None);
        if (n == 0) gone.Cancel();
        return n;
    }
    catch (SocketException)
    {
        gone.Cancel();
        return 0;
    }
}

static string? Model(ReadOnlySpan<byte> body)
{
    var reader = new Utf8JsonReader(body);
    string? model = null;
    while (reader.Read())
    {
        if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("model"u8))
        {
            reader.Read(); model = reader.GetString();
        }
    }
    return model;
}

static async Task<(byte[] buf, int start, int len)> Exchange<T>(T upstream, byte[] ubuf, byte[] outb, ReadOnlyMemory<byte> body, int[] ulenBox)
    where T : IUpstream
{
    var head = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "u8;
    head.CopyTo(outb);
    var o = head.Length;
    o += Encoding.ASCII.GetBytes(body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), outb.AsSpan(o));
    "\r\n\r\n"u8.CopyTo(outb.AsSpan(o)); o += 4;
    body.Span.CopyTo(outb.AsSpan(o)); o += body.Length;
    await upstream.SendAsync(outb.AsMemory(0, o));
    var ulen = ulenBox[0];
    int uhe;
    while ((uhe = IndexOfHeadEnd(ubuf.AsSpan(0, ulen))) < 0)
    {
        var n = await upstream.ReceiveAsync(ubuf.AsMemory(ulen));
        if (n == 0) throw new IOException("upstream closed");
        ulen += n;
    }
    var rlen = ContentLength(ubuf.AsSpan(0, uhe + 2));
    while (ulen < uhe + 4 + rlen)
    {
        var n = await upstream.ReceiveAsync(ubuf.AsMemory(ulen));
        if (n == 0) throw new IOException("upstream closed");
        ulen += n;
    }
    ulenBox[0] = ulen;
    return (ubuf, uhe + 4, rlen);
}

static void Consume(byte[] ubuf, int[] ulenBox, int used)
{
    Buffer.BlockCopy(ubuf, used, ubuf, 0, ulenBox[0] - used); ulenBox[0] -= used;
}

static async Task ServePipe(ConnectionContext ctx, IPEndPoint up)
{
    if (ctx is EpollConnection { UpstreamOnLoop: true } e)
    {
        using var upstream = new EpollSocket(e.Loop, up.Port);
        await ServePipeWith(ctx, upstream);
    }
    else
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(up);
        await ServePipeWith(ctx, new SocketUpstream(socket));
    }
}

static async Task ServePipeWith<T>(ConnectionContext ctx, T upstream) where T : IUpstream
{
    var input = ctx.Transport.Input; var output = ctx.Transport.Output;
    var ubuf = new byte[16384]; var ulenBox = new int[1];
    var outb = new byte[16384]; var body = new byte[16384];
    try
    {
        while (true)
        {
            var result = await input.ReadAsync();
            var buf = result.Buffer;
            var span = buf.IsSingleSegment ? buf.FirstSpan : buf.ToArray();
            var headEnd = IndexOfHeadEnd(span);
            int blen = headEnd < 0 ? 0 : ContentLength(span[..(headEnd + 2)]);
            if (headEnd < 0 || span.Length < headEnd + 4 + blen)
            {
                if (result.IsCompleted) return;
                input.AdvanceTo(buf.Start, buf.End);
                continue;
            }
            span.Slice(headEnd + 4, blen).CopyTo(body);
            input.AdvanceTo(buf.GetPosition(headEnd + 4 + blen));
            if (Model(body.AsSpan(0, blen)) is null) throw new InvalidOperationException("no model");
            var (ub, start, rlen) = await Exchange(upstream, ubuf, outb, body.AsMemory(0, blen), ulenBox);
            var rhead = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nx-atoll-endpoint: sim-1\r\nContent-Length: "u8;
            var dst = output.GetSpan(rhead.Length + 32 + rlen);
            rhead.CopyTo(dst); var o = rhead.Length;
            o += Encoding.ASCII.GetBytes(rlen.ToString(System.Globalization.CultureInfo.InvariantCulture), dst[o..]);
            "\r\n\r\n"u8.CopyTo(dst[o..]); o += 4;
            ub.AsSpan(start, rlen).CopyTo(dst[o..]); o += rlen;
            output.Advance(o);
            Consume(ubuf, ulenBox, start + rlen);
            await output.FlushAsync();
        }
    }
    catch (Exception e) when (e is SocketException or IOException or ConnectionResetException) { }
}

static async Task ServeHttp(HttpContext ctx, IPEndPoint up)
{
    var items = ctx.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionItemsFeature>()!.Items;
    if (!items.TryGetValue("up", out var state))
    {
        var s = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await s.ConnectAsync(up);
        state = (s, new byte[16384], new int[1], new byte[16384]);
        items["up"] = state;
    }
    var (socket, ubuf, ulenBox, outb) = ((Socket, byte[], int[], byte[]))state!;
    var upstream = new SocketUpstream(socket);
    var len = (int)ctx.Request.ContentLength!.Value;
    var body = new byte[len];
    await ctx.Request.Body.ReadExactlyAsync(body);
    if (Model(body) is null) throw new InvalidOperationException("no model");
    var (ub, start, rlen) = await Exchange(upstream, ubuf, outb, body, ulenBox);
    ctx.Response.ContentType = "application/json";
    ctx.Response.Headers["x-atoll-endpoint"] = "sim-1";
    ctx.Response.ContentLength = rlen;
    await ctx.Response.Body.WriteAsync(ub.AsMemory(start, rlen));
    Consume(ubuf, ulenBox, start + rlen);
}

// The model-server connection as Exchange uses it: a .NET socket, or (efull) a socket on the econn loop.
internal interface IUpstream
{
    ValueTask<int> SendAsync(ReadOnlyMemory<byte> bytes);
    ValueTask<int> ReceiveAsync(Memory<byte> buffer);
}

internal readonly struct SocketUpstream(Socket socket) : IUpstream
{
    public ValueTask<int> SendAsync(ReadOnlyMemory<byte> bytes) => socket.SendAsync(bytes, SocketFlags.None);
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer) => socket.ReceiveAsync(buffer, SocketFlags.None);
}

internal static class Wire
{
    /// <summary>The Content-Length of a head (0 without one).</summary>
    public static int ContentLength(ReadOnlySpan<byte> head)
    {
        var i = head.IndexOf("\r\nContent-Length:"u8);
        if (i < 0) i = head.IndexOf("\r\ncontent-length:"u8);
        if (i < 0) return 0;
        var rest = head[(i + 17)..];
        var end = rest.IndexOf("\r\n"u8);
        var v = rest[..(end < 0 ? rest.Length : end)].Trim((byte)' ');
        return int.Parse(Encoding.ASCII.GetString(v), System.Globalization.CultureInfo.InvariantCulture);
    }
}
