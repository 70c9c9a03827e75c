using System.Net;
using System.Net.Sockets;

namespace Atoll.Cli.Hosting;

/// <summary>
/// Checks, before a web host is built, that its listen address can be bound. Kestrel would find out only after the
/// background services had started (and the host logs the failure with a stack trace); this says it in one line and
/// before anything is created. The host's own bind stays the authority: this misses a port taken in between.
/// </summary>
internal static class ListenProbe
{
    /// <summary>Throws a <see cref="CliException"/> ending in <paramref name="hint"/> when something listens on <paramref name="url"/>.</summary>
    public static void ThrowIfInUse(string url, string hint)
    {
        if (IsInUse(url))
        {
            throw new CliException($"cannot listen on {url}: address already in use ({hint})");
        }
    }

    /// <summary>Whether something listens on <paramref name="url"/>'s address and port (false when that cannot be told).</summary>
    public static bool IsInUse(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return false;
        }
        IPAddress? address = uri.Host switch
        {
            "localhost" => IPAddress.Loopback,
            "*" or "+" or "0.0.0.0" => IPAddress.Any,
            _ => IPAddress.TryParse(uri.Host.Trim('[', ']'), out var parsed) ? parsed : null,
        };
        if (address is null)
        {
            return false; // a host name: Kestrel binds what it resolves to; leave it to Kestrel
        }
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        // As Kestrel does: connections in TIME_WAIT from a previous run do not count as "in use", a listener does.
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        try
        {
            socket.Bind(new IPEndPoint(address, uri.Port));
            return false;
        }
        catch (SocketException e)
        {
            // Any other failure (no such local address, no permission) is not ours to judge: Kestrel reports it.
            return e.SocketErrorCode == SocketError.AddressAlreadyInUse;
        }
    }
}
