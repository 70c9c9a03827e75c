namespace Atoll.Server.Gateway;

/// <summary>
/// Request bodies are allocated as their bytes arrive, not as their Content-Length declares: a client that declares
/// the largest allowed body and sends nothing would otherwise hold that much memory per connection until its read
/// deadline, before its key's rate limit is even looked at. The usual body (a few KB) still gets one array of its
/// exact size.
/// </summary>
internal static class RequestBodies
{
    /// <summary>What a body gets before its bytes arrive.</summary>
    public const int InitialBytes = 64 * 1024;

    /// <summary>
    /// The first array for a body that declared <paramref name="declared"/> bytes. Not zeroed (a body of a few KB
    /// costs about 1 µs to clear): the readers fill it before anything reads it, and only the filled part is used.
    /// </summary>
    public static byte[] Start(long declared) => GC.AllocateUninitializedArray<byte>((int)Math.Min(declared, InitialBytes));

    /// <summary>
    /// <paramref name="body"/>, or a larger copy of its first <paramref name="filled"/> bytes when <paramref name="needed"/>
    /// bytes do not fit: at least twice the size, never more than <paramref name="declared"/> (so the last array is the
    /// body's exact size).
    /// </summary>
    public static byte[] Grow(byte[] body, int filled, long needed, long declared)
    {
        if (needed <= body.Length)
        {
            return body;
        }
        var larger = GC.AllocateUninitializedArray<byte>((int)Math.Min(declared, Math.Max(needed, body.Length * 2L)));
        body.AsSpan(0, filled).CopyTo(larger);
        return larger;
    }
}
