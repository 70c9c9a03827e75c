using System.Buffers;
using System.Text;

namespace Atoll.Server.Gateway;

/// <summary>What <see cref="Http1RequestHead.Parse"/> makes of the bytes at the start of a connection's input.</summary>
internal enum HeadVerdict
{
    /// <summary>Not enough bytes yet to tell.</summary>
    NeedMore,

    /// <summary>A forwarded request in the plain form the front serves: the head is parsed.</summary>
    Mine,

    /// <summary>Anything else: Kestrel gets the connection, bytes untouched.</summary>
    NotMine,
}

/// <summary>
/// The head of a request the gateway's HTTP/1.1 front serves itself: <c>POST</c> of one of the three forwarded
/// paths, exactly, over HTTP/1.1, with one Host and one Content-Length and nothing the front does not implement.
/// Everything else (other requests, a query string, chunked uploads, <c>Expect</c>, <c>Upgrade</c>, HTTP/1.0, TLS,
/// HTTP/2, malformed or oversize heads) is <see cref="HeadVerdict.NotMine"/>: Kestrel serves it with all its rules,
/// so the front never has to answer a protocol error of its own.
/// </summary>
internal readonly record struct Http1RequestHead(GatewayRoute Route, string Path, int HeadLength, long ContentLength, string Authorization, bool KeepAlive)
{
    private static readonly (byte[] Line, GatewayRoute Route, string Path)[] Lines =
    [
        ("POST /v1/chat/completions HTTP/1.1"u8.ToArray(), GatewayRoute.ChatCompletions, OpenAiEndpoints.ChatCompletionsPath),
        ("POST /v1/completions HTTP/1.1"u8.ToArray(), GatewayRoute.Completions, OpenAiEndpoints.CompletionsPath),
        ("POST /v1/embeddings HTTP/1.1"u8.ToArray(), GatewayRoute.Embeddings, OpenAiEndpoints.EmbeddingsPath),
    ];

    /// <summary>The longest request line the front serves, with its line end.</summary>
    private static readonly int MaxLineBytes = Lines.Max(l => l.Line.Length) + 2;

    /// <summary>
    /// Reads a request head from the start of <paramref name="input"/>. <paramref name="maxHeaderBytes"/> (the header
    /// lines after the request line, as Kestrel's MaxRequestHeadersTotalSize counts them) and
    /// <paramref name="maxHeaders"/> are Kestrel's limits: a head over them is Kestrel's to refuse.
    /// <paramref name="lastAuthorization"/> is reused when the header is the same as on the connection's last request.
    /// </summary>
    public static HeadVerdict Parse(ReadOnlySequence<byte> input, int maxHeaderBytes, int maxHeaders, string lastAuthorization, out Http1RequestHead head)
    {
        var maxHeadBytes = maxHeaderBytes + MaxLineBytes;
        // The head is read where it lies when the first segment holds it whole (the pipe's segments are 4 KB: a large
        // body goes on in the next ones); parsing stops at its blank line, whatever follows.
        if (input.IsSingleSegment || input.FirstSpan.IndexOf("\r\n\r\n"u8) >= 0)
        {
            return ParseSpan(input.FirstSpan, input.Length, maxHeaderBytes, maxHeaders, lastAuthorization, out head);
        }
        // A head split over segments (rare: it came in pieces) is read from a copy of its start: no head that the
        // front serves is longer than the limit.
        var copied = (int)Math.Min(input.Length, maxHeadBytes + 2L);
        var copy = ArrayPool<byte>.Shared.Rent(copied);
        try
        {
            input.Slice(0, copied).CopyTo(copy);
            return ParseSpan(copy.AsSpan(0, copied), input.Length, maxHeaderBytes, maxHeaders, lastAuthorization, out head);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    /// <summary><see cref="Parse(ReadOnlySequence{byte}, int, int, string, out Http1RequestHead)"/> of the first bytes of an input <paramref name="inputLength"/> long.</summary>
    private static HeadVerdict ParseSpan(ReadOnlySpan<byte> input, long inputLength, int maxHeaderBytes, int maxHeaders, string lastAuthorization, out Http1RequestHead head)
    {
        head = default;
        var end = input.IndexOf("\r\n"u8);
        if (end < 0)
        {
            return IsLinePrefix(input) ? HeadVerdict.NeedMore : HeadVerdict.NotMine;
        }
        var requestLine = input[..end];
        var consumed = end + 2;
        // Kestrel allows the header lines and the blank line after them MaxRequestHeadersTotalSize + 2 bytes.
        var maxConsumed = consumed + maxHeaderBytes + 2;
        var which = 0;
        while (!requestLine.SequenceEqual(Lines[which].Line))
        {
            if (++which == Lines.Length)
            {
                return HeadVerdict.NotMine;
            }
        }

        long? length = null;
        var hosts = 0;
        var headers = 0;
        var keepAlive = true;
        var authorization = "";
        var authorizations = 0;
        while ((end = input[consumed..].IndexOf("\r\n"u8)) >= 0)
        {
            var line = input.Slice(consumed, end);
            consumed += end + 2;
            if (consumed > maxConsumed)
            {
                return HeadVerdict.NotMine;
            }
            if (line.IsEmpty)
            {
                if (length is null || hosts != 1)
                {
                    return HeadVerdict.NotMine;
                }
                head = new Http1RequestHead(Lines[which].Route, Lines[which].Path, consumed, length.Value, authorization, keepAlive);
                return HeadVerdict.Mine;
            }
            var colon = line.IndexOf((byte)':');
            if (++headers > maxHeaders || colon <= 0 || line[..colon].IndexOfAny((byte)' ', (byte)'\t') >= 0 || !IsFieldText(line))
            {
                return HeadVerdict.NotMine; // also folded lines, which start with a space
            }
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim(" \t"u8);
            if (Ascii.EqualsIgnoreCase(name, "content-length"u8))
            {
                if (length is not null || value.IsEmpty || value.Length > 15 || value.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0)
                {
                    return HeadVerdict.NotMine;
                }
                length = long.Parse(value, provider: System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (Ascii.EqualsIgnoreCase(name, "host"u8))
            {
                hosts++;
            }
            else if (Ascii.EqualsIgnoreCase(name, "authorization"u8))
            {
                if (++authorizations > 1)
                {
                    return HeadVerdict.NotMine; // even after an empty one: Kestrel joins them and refuses the key
                }
                authorization = Ascii.Equals(value, lastAuthorization) ? lastAuthorization : Encoding.ASCII.GetString(value);
            }
            else if (Ascii.EqualsIgnoreCase(name, "connection"u8))
            {
                keepAlive &= !HasToken(value, "close"u8);
                if (HasToken(value, "upgrade"u8))
                {
                    return HeadVerdict.NotMine;
                }
            }
            else if (Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8) || Ascii.EqualsIgnoreCase(name, "expect"u8)
                || Ascii.EqualsIgnoreCase(name, "upgrade"u8))
            {
                return HeadVerdict.NotMine;
            }
        }
        return inputLength > maxConsumed ? HeadVerdict.NotMine : HeadVerdict.NeedMore;
    }

    /// <summary>Whether the bytes so far, without a line end yet, may still become one of the three request lines.</summary>
    private static bool IsLinePrefix(ReadOnlySpan<byte> input)
    {
        var seen = input.Length > 40 ? input[..40] : input;
        foreach (var (line, _, _) in Lines)
        {
            if (seen.Length <= line.Length
                ? line.AsSpan().StartsWith(seen)
                : seen.Length == line.Length + 1 && seen.StartsWith(line) && seen[^1] == (byte)'\r')
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Visible ASCII, space and tab only: Kestrel refuses other bytes in a head, so the front leaves them to it.</summary>
    private static bool IsFieldText(ReadOnlySpan<byte> line) => line.IndexOfAnyExcept(Printable) < 0;

    private static readonly SearchValues<byte> Printable = SearchValues.Create([(byte)'\t', .. Enumerable.Range(' ', '~' - ' ' + 1).Select(b => (byte)b)]);

    /// <summary>Whether a comma-separated header value holds <paramref name="token"/> (any case).</summary>
    private static bool HasToken(ReadOnlySpan<byte> value, ReadOnlySpan<byte> token)
    {
        foreach (var range in value.Split((byte)','))
        {
            if (Ascii.EqualsIgnoreCase(value[range].Trim(" \t"u8), token))
            {
                return true;
            }
        }
        return false;
    }
}
