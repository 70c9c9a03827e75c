namespace Atoll.Server.Gateway;

/// <summary>An upstream exchange failed: no connection, a broken or malformed answer, or the connection closed.</summary>
internal sealed class UpstreamException(string message, bool connecting = false, Exception? inner = null) : IOException(message, inner)
{
    /// <summary>The connection could not be made (nothing was sent).</summary>
    public bool Connecting => connecting;
}
