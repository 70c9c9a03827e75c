using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using static Libc;

// RAW_MODE=epoll: the same minimal forward as the other forms, on an event loop of its own instead of .NET's sockets:
// libc sockets and epoll through P/Invoke, edge-triggered, one loop per core (RAW_LOOPS), each with its own listening
// socket (SO_REUSEPORT). It reads a socket only when epoll said it is readable and stops when a read returns less than
// it asked for (nginx's rule), so no read finds nothing; .NET's socket layer tries every read before it waits. The
// question it answers: how far below Kestrel's floor (`conn`) a transport of Atoll's own could go.
internal static unsafe class EpollProxy
{
    // (libc through Libc below)
    private const int BufferSize = 16384;

    private sealed class Conn(int fd, bool client)
    {
        public readonly int Fd = fd;
        public readonly bool Client = client;
        public Conn? Peer;
        public readonly byte[] In = new byte[BufferSize];
        public int InLen;
        public readonly byte[] Out = new byte[BufferSize];
        public int OutStart, OutLen;
        public bool Busy; // a client whose request is at the model server
        public bool Closed;
    }

    public static int Run(int listenPort, int upstreamPort)
    {
        var loops = int.TryParse(Environment.GetEnvironmentVariable("RAW_LOOPS"), out var l) && l > 0 ? l : Environment.ProcessorCount;
        var threads = new List<Thread>();
        for (var i = 0; i < loops; i++)
        {
            var listener = Listen(listenPort);
            var t = new Thread(() => Loop(listener, upstreamPort)) { IsBackground = true, Name = "epoll-" + i };
            t.Start();
            threads.Add(t);
        }
        Console.WriteLine($"listening epoll ({loops} loops)");
        foreach (var t in threads)
        {
            t.Join();
        }
        return 0;
    }

    private static void Loop(int listener, int upstreamPort)
    {
        var ep = Check(epoll_create1(0), "epoll_create1");
        var conns = new Dictionary<int, Conn>();
        var ev = new EpollEvent { Events = EPOLLIN, Data = ulong.MaxValue };
        Check(epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev), "epoll_ctl listener");
        var events = new EpollEvent[256];
        var upstream = Loopback(upstreamPort);
        while (true)
        {
            var n = Wait(ep, events);
            for (var i = 0; i < n; i++)
            {
                if (events[i].Data == ulong.MaxValue)
                {
                    Accept(listener, ep, conns, upstream);
                    continue;
                }
                if (!conns.TryGetValue((int)events[i].Data, out var c) || c.Closed) continue;
                var what = events[i].Events;
                if ((what & EPOLLOUT) != 0 && c.OutLen > 0) Flush(c, conns);
                if ((what & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) != 0 && !c.Closed) Readable(c, conns);
            }
        }
    }

    private static void Accept(int listener, int ep, Dictionary<int, Conn> conns, SockAddrIn upstream)
    {
        while (true)
        {
            var fd = accept4(listener, null, null, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) return; // EAGAIN: accepted everything
            var one = 1;
            Check(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, 4), "TCP_NODELAY");
            // One model-server connection per client, as the other forms: connected blocking (loopback), then non-blocking.
            var up = Check(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
            Check(setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, 4), "TCP_NODELAY");
            if (connect(up, &upstream, sizeof(SockAddrIn)) < 0)
            {
                _ = close(up);
                _ = close(fd);
                continue;
            }
            Check(fcntl(up, 4 /* F_SETFL */, 0x800 /* O_NONBLOCK */), "fcntl");
            var client = new Conn(fd, client: true);
            var model = new Conn(up, client: false) { Peer = client };
            client.Peer = model;
            conns[fd] = client;
            conns[up] = model;
            foreach (var c in new[] { client, model })
            {
                var ev = new EpollEvent { Events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, Data = (ulong)c.Fd };
                Check(epoll_ctl(ep, EPOLL_CTL_ADD, c.Fd, &ev), "epoll_ctl");
            }
        }
    }

    private static void Readable(Conn c, Dictionary<int, Conn> conns)
    {
        while (true)
        {
            var room = c.In.Length - c.InLen;
            if (room == 0) break; // a full buffer: the message is parsed below; the rest waits (edge-triggered: read again then)
            nint got;
            fixed (byte* b = c.In)
            {
                got = recv(c.Fd, b + c.InLen, room, 0);
            }
            if (got > 0)
            {
                c.InLen += (int)got;
                if (got < room) break; // drained: epoll reports the next bytes
                continue;
            }
            if (got == 0 || Marshal.GetLastPInvokeError() is not (EAGAIN or EINTR))
            {
                Close(c, conns);
                return;
            }
            if (Marshal.GetLastPInvokeError() == EAGAIN) break;
        }
        if (c.Client) ServeClient(c, conns);
        else Answer(c, conns);
    }

    private static bool Message(Conn c, out int headEnd, out int bodyLen)
    {
        var span = c.In.AsSpan(0, c.InLen);
        headEnd = span.IndexOf("\r\n\r\n"u8);
        bodyLen = 0;
        if (headEnd < 0) return false;
        bodyLen = Wire.ContentLength(span[..(headEnd + 2)]);
        return c.InLen >= headEnd + 4 + bodyLen;
    }

    private static void ServeClient(Conn c, Dictionary<int, Conn> conns)
    {
        if (c.Busy || !Message(c, out var headEnd, out var blen)) return;
        var bodyStart = headEnd + 4;
        var body = c.In.AsSpan(bodyStart, blen);
        var reader = new Utf8JsonReader(body); // the model, as the gateway reads it
        string? model = null;
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("model"u8))
            {
                reader.Read();
                model = reader.GetString();
            }
        }
        if (model is null)
        {
            Close(c, conns);
            return;
        }
        var up = c.Peer!;
        var o = up.OutStart + up.OutLen;
        var head = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "u8;
        head.CopyTo(up.Out.AsSpan(o));
        o += head.Length;
        o += Encoding.ASCII.GetBytes(blen.ToString(System.Globalization.CultureInfo.InvariantCulture), up.Out.AsSpan(o));
        "\r\n\r\n"u8.CopyTo(up.Out.AsSpan(o));
        o += 4;
        body.CopyTo(up.Out.AsSpan(o));
        o += blen;
        up.OutLen = o - up.OutStart;
        var used = bodyStart + blen;
        Buffer.BlockCopy(c.In, used, c.In, 0, c.InLen - used);
        c.InLen -= used;
        c.Busy = true;
        Flush(up, conns);
    }

    private static void Answer(Conn up, Dictionary<int, Conn> conns)
    {
        if (!Message(up, out var headEnd, out var rlen)) return;
        var c = up.Peer!;
        var o = c.OutStart + c.OutLen;
        var rhead = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nx-atoll-endpoint: sim-1\r\nContent-Length: "u8;
        rhead.CopyTo(c.Out.AsSpan(o));
        o += rhead.Length;
        o += Encoding.ASCII.GetBytes(rlen.ToString(System.Globalization.CultureInfo.InvariantCulture), c.Out.AsSpan(o));
        "\r\n\r\n"u8.CopyTo(c.Out.AsSpan(o));
        o += 4;
        up.In.AsSpan(headEnd + 4, rlen).CopyTo(c.Out.AsSpan(o));
        o += rlen;
        c.OutLen = o - c.OutStart;
        var used = headEnd + 4 + rlen;
        Buffer.BlockCopy(up.In, used, up.In, 0, up.InLen - used);
        up.InLen -= used;
        c.Busy = false;
        Flush(c, conns);
        if (!c.Closed) ServeClient(c, conns); // a request that came while this one was served
    }

    private static void Flush(Conn c, Dictionary<int, Conn> conns)
    {
        while (c.OutLen > 0)
        {
            nint sent;
            fixed (byte* b = c.Out)
            {
                sent = send(c.Fd, b + c.OutStart, c.OutLen, MSG_NOSIGNAL);
            }
            if (sent > 0)
            {
                c.OutStart += (int)sent;
                c.OutLen -= (int)sent;
                continue;
            }
            if (Marshal.GetLastPInvokeError() == EAGAIN) return; // the rest goes when epoll reports the socket writable
            Close(c, conns);
            return;
        }
        c.OutStart = 0;
    }

    private static void Close(Conn c, Dictionary<int, Conn> conns)
    {
        foreach (var x in new[] { c, c.Peer! })
        {
            if (x.Closed) continue;
            x.Closed = true;
            conns.Remove(x.Fd);
            _ = close(x.Fd); // closing removes it from the epoll set
        }
    }
}

// libc sockets and epoll (x86-64 Linux values), for EpollProxy and EpollTransport.
internal static unsafe class Libc
{
    internal const int AF_INET = 2, SOCK_STREAM = 1, SOCK_NONBLOCK = 0x800, SOCK_CLOEXEC = 0x80000;
    internal const int SOL_SOCKET = 1, SO_REUSEADDR = 2, SO_REUSEPORT = 15, IPPROTO_TCP = 6, TCP_NODELAY = 1;
    internal const uint EPOLLIN = 0x1, EPOLLOUT = 0x4, EPOLLERR = 0x8, EPOLLHUP = 0x10, EPOLLRDHUP = 0x2000, EPOLLET = 1u << 31;
    internal const int EPOLL_CTL_ADD = 1, EAGAIN = 11, EINTR = 4, MSG_NOSIGNAL = 0x4000;

    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    internal struct EpollEvent { public uint Events; public ulong Data; }

    [StructLayout(LayoutKind.Sequential)]
    internal struct SockAddrIn { public ushort Family; public ushort Port; public uint Addr; public ulong Zero; }

    [DllImport("libc", SetLastError = true)] internal static extern int socket(int domain, int type, int protocol);
    [DllImport("libc", SetLastError = true)] internal static extern int setsockopt(int fd, int level, int name, int* value, int len);
    [DllImport("libc", SetLastError = true)] internal static extern int bind(int fd, SockAddrIn* addr, int len);
    [DllImport("libc", SetLastError = true)] internal static extern int listen(int fd, int backlog);
    [DllImport("libc", SetLastError = true)] internal static extern int accept4(int fd, void* addr, void* len, int flags);
    [DllImport("libc", SetLastError = true)] internal static extern int connect(int fd, SockAddrIn* addr, int len);
    [DllImport("libc", SetLastError = true)] internal static extern nint recv(int fd, byte* buf, nint len, int flags);
    [DllImport("libc", SetLastError = true)] internal static extern nint send(int fd, byte* buf, nint len, int flags);
    [DllImport("libc", SetLastError = true)] internal static extern int close(int fd);
    [DllImport("libc", SetLastError = true)] internal static extern int fcntl(int fd, int cmd, int arg);
    [DllImport("libc", SetLastError = true)] internal static extern int epoll_create1(int flags);
    [DllImport("libc", SetLastError = true)] internal static extern int epoll_ctl(int ep, int op, int fd, EpollEvent* ev);
    [DllImport("libc", SetLastError = true)] internal static extern int epoll_wait(int ep, EpollEvent* events, int max, int timeout);


    /// <summary>Waits for events on <paramref name="ep"/>: how many are in <paramref name="events"/>.</summary>
    internal static int Wait(int ep, EpollEvent[] events)
    {
        while (true)
        {
            int n;
            fixed (EpollEvent* e = events)
            {
                n = epoll_wait(ep, e, events.Length, -1);
            }
            if (n >= 0) return n;
            if (Marshal.GetLastPInvokeError() != EINTR) throw new IOException("epoll_wait failed");
        }
    }

    internal static int Check(int r, string what) => r >= 0 ? r : throw new IOException($"{what}: errno {Marshal.GetLastPInvokeError()}");

    internal static SockAddrIn Loopback(int port) => new()
    {
        Family = AF_INET,
        Port = (ushort)((port >> 8) | ((port & 0xff) << 8)),
        Addr = 0x0100007f, // 127.0.0.1 in network order
    };

    /// <summary>A non-blocking listening socket on 127.0.0.1:port, shared with other listeners of the port (SO_REUSEPORT).</summary>
    internal static int Listen(int port)
    {
        var fd = Check(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), "socket");
        var one = 1;
        Check(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, 4), "SO_REUSEADDR");
        Check(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, 4), "SO_REUSEPORT");
        var addr = Loopback(port);
        Check(bind(fd, &addr, sizeof(SockAddrIn)), "bind");
        Check(listen(fd, 1024), "listen");
        return fd;
    }
}
