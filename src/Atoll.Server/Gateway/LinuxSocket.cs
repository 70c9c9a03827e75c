using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Atoll.Server.Gateway;

/// <summary>
/// The libc socket calls under <see cref="EpollStream"/> (Linux values), the socket addresses they take, and the
/// runtime's names for their errors, so that failures read as the runtime's sockets report them.
/// </summary>
internal static class LinuxSocket
{
    public const int EINTR = 4, EAGAIN = 11, EINPROGRESS = 115, MSG_NOSIGNAL = 0x4000;

    /// <summary>What <see cref="Receive"/> and <see cref="Send"/> return when the socket had no bytes or no room.</summary>
    public const int Again = -1;
    private const int AF_INET = 2, AF_INET6 = 10, SOCK_STREAM = 1, SOCK_NONBLOCK = 0x800, SOCK_CLOEXEC = 0x80000;
    private const int SOL_SOCKET = 1, SO_ERROR = 4, IPPROTO_TCP = 6, TCP_NODELAY = 1;

    /// <summary>A new non-blocking TCP socket of <paramref name="family"/>, with Nagle off.</summary>
    public static SafeFileHandle Open(AddressFamily family)
    {
        var fd = socket_(family == AddressFamily.InterNetworkV6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw Error(Marshal.GetLastPInvokeError());
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        var one = 1;
        if (setsockopt(handle, IPPROTO_TCP, TCP_NODELAY, ref one, sizeof(int)) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw Error(errno);
        }
        return handle;
    }

    /// <summary>A <c>sockaddr_in</c> or <c>sockaddr_in6</c> for <paramref name="address"/>.</summary>
    public static byte[] Address(IPAddress address, int port)
    {
        var v6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        var sa = new byte[v6 ? 28 : 16];
        BitConverter.TryWriteBytes(sa.AsSpan(0, 2), (ushort)(v6 ? AF_INET6 : AF_INET)); // host order
        BinaryPrimitives.WriteUInt16BigEndian(sa.AsSpan(2, 2), (ushort)port);
        if (v6)
        {
            address.TryWriteBytes(sa.AsSpan(8, 16), out _);
            BitConverter.TryWriteBytes(sa.AsSpan(24, 4), (uint)address.ScopeId);
        }
        else
        {
            address.TryWriteBytes(sa.AsSpan(4, 4), out _);
        }
        return sa;
    }

    /// <summary>Starts a connect: 0 (connected), <see cref="EINPROGRESS"/> (epoll reports its end) or an errno.</summary>
    public static int StartConnect(SafeHandle socket, byte[] address)
    {
        if (connect(socket, address, address.Length) == 0)
        {
            return 0;
        }
        var errno = Marshal.GetLastPInvokeError();
        return errno == EINTR ? EINPROGRESS : errno; // an interrupted connect goes on by itself; epoll reports its end
    }

    /// <summary>How a connect that was in progress ended: 0, or its errno.</summary>
    public static int ConnectResult(SafeHandle socket)
    {
        var error = 0;
        var length = sizeof(int);
        return getsockopt(socket, SOL_SOCKET, SO_ERROR, ref error, ref length) < 0 ? Marshal.GetLastPInvokeError() : error;
    }

    /// <summary>
    /// One <c>recv</c> into <paramref name="buffer"/>: the bytes read (0 at the peer's close), <see cref="Again"/>
    /// when there were none, or an <see cref="IOException"/> (inner <see cref="SocketException"/>) for an error.
    /// </summary>
    public static int Receive(SafeHandle socket, Span<byte> buffer, out IOException? error)
    {
        error = null;
        while (true)
        {
            var n = recv(socket, ref MemoryMarshal.GetReference(buffer), buffer.Length, 0);
            if (n >= 0)
            {
                return (int)n;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (errno == EINTR)
            {
                continue;
            }
            if (errno == EAGAIN)
            {
                return Again;
            }
            error = new IOException($"Unable to read data from the transport connection: {ToSocketError(errno)}.", Error(errno));
            return 0;
        }
    }

    /// <summary>
    /// One <c>send</c> of <paramref name="buffer"/>: the bytes the socket took, or <see cref="Again"/> when it is
    /// full. Throws an <see cref="IOException"/> (inner <see cref="SocketException"/>) for an error.
    /// </summary>
    public static int Send(SafeHandle socket, ReadOnlySpan<byte> buffer)
    {
        while (true)
        {
            var n = send(socket, ref MemoryMarshal.GetReference(buffer), buffer.Length, MSG_NOSIGNAL);
            if (n >= 0)
            {
                return (int)n;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (errno == EINTR)
            {
                continue;
            }
            if (errno == EAGAIN)
            {
                return Again;
            }
            throw new IOException($"Unable to write data to the transport connection: {ToSocketError(errno)}.", Error(errno));
        }
    }

    /// <summary>A <see cref="SocketException"/> for a Linux errno, as the runtime's sockets throw it.</summary>
    public static SocketException Error(int errno) => new((int)ToSocketError(errno));

    /// <summary>The runtime's name for a Linux errno of a socket call.</summary>
    public static SocketError ToSocketError(int errno) => errno switch
    {
        111 => SocketError.ConnectionRefused,
        110 => SocketError.TimedOut,
        113 => SocketError.HostUnreachable,
        101 => SocketError.NetworkUnreachable,
        104 => SocketError.ConnectionReset,
        32 => SocketError.Shutdown,
        103 => SocketError.ConnectionAborted,
        99 => SocketError.AddressNotAvailable,
        24 or 23 => SocketError.TooManyOpenSockets,
        105 or 12 => SocketError.NoBufferSpaceAvailable,
        97 => SocketError.AddressFamilyNotSupported,
        13 or 1 => SocketError.AccessDenied,
        100 => SocketError.NetworkDown,
        112 => SocketError.HostDown,
        98 => SocketError.AddressAlreadyInUse,
        _ => SocketError.SocketError,
    };

    [DllImport("libc", SetLastError = true)]
    private static extern nint recv(SafeHandle fd, ref byte buffer, nint length, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern nint send(SafeHandle fd, ref byte buffer, nint length, int flags);

    [DllImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static extern int socket_(int domain, int type, int protocol);

    [DllImport("libc", SetLastError = true)]
    private static extern int setsockopt(SafeHandle fd, int level, int name, ref int value, int length);

    [DllImport("libc", SetLastError = true)]
    private static extern int getsockopt(SafeHandle fd, int level, int name, ref int value, ref int length);

    [DllImport("libc", SetLastError = true)]
    private static extern int connect(SafeHandle fd, byte[] address, int length);
}
