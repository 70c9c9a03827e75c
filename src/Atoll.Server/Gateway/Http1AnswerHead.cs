using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Atoll.Server.Gateway;

/// <summary>
/// The head of a model server's answer, parsed from its bytes: status, keep-alive, Content-Type, framing and the
/// values of <see cref="KeptHeaders"/>; every other header is skipped. One per connection, reused for each answer.
/// </summary>
internal sealed class Http1AnswerHead
{
    /// <summary>Answer headers passed on to the client (besides Content-Type), in the order of <see cref="Kept"/>.</summary>
    public static readonly string[] KeptHeaders = ["x-request-id", "openai-processing-ms", "x-atoll-instance"];

    private static readonly byte[][] KeptHeaderBytes = [.. KeptHeaders.Select(Encoding.ASCII.GetBytes)];

    private readonly string?[] lastKept = new string?[KeptHeaders.Length];

    public int Status { get; private set; }

    /// <summary>HTTP/1.1 keeps the connection unless it says close, HTTP/1.0 closes it unless it says keep-alive.</summary>
    public bool KeepAlive { get; private set; }

    public string? ContentType { get; private set; }

    /// <summary>Whether the last transfer coding is chunked.</summary>
    public bool Chunked { get; private set; }

    /// <summary>The Content-Length header, null when absent.</summary>
    public long? DeclaredLength { get; private set; }

    /// <summary>Values of <see cref="KeptHeaders"/> in the current answer (null when absent).</summary>
    public string?[] Kept { get; } = new string?[KeptHeaders.Length];

    /// <summary>Reads <paramref name="head"/> (status line and headers, without the blank line); anything malformed is an <see cref="UpstreamException"/>.</summary>
    public void Parse(ReadOnlySpan<byte> head)
    {
        var lineEnd = head.IndexOf("\r\n"u8);
        var statusLine = lineEnd < 0 ? head : head[..lineEnd];
        // "HTTP/1.1 200 OK"
        if (statusLine.Length < 12 || !statusLine.StartsWith("HTTP/1."u8) || statusLine[8] != (byte)' '
            || !Utf8Parser.TryParse(statusLine.Slice(9, 3), out int status, out var used) || used != 3 || status < 100)
        {
            throw new UpstreamException($"not an HTTP/1 answer: \"{Printable(statusLine)}\"");
        }
        Status = status;
        KeepAlive = statusLine[7] != (byte)'0';
        ContentType = null;
        Array.Clear(Kept);
        Chunked = false;
        DeclaredLength = null;
        var rest = lineEnd < 0 ? [] : head[(lineEnd + 2)..];
        while (!rest.IsEmpty)
        {
            var next = rest.IndexOf("\r\n"u8);
            var line = next < 0 ? rest : rest[..next];
            rest = next < 0 ? [] : rest[(next + 2)..];
            var colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                throw new UpstreamException($"malformed answer header: \"{Printable(line)}\"");
            }
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim(" \t"u8);
            if (Ascii.EqualsIgnoreCase(name, "content-length"u8))
            {
                if (!Utf8Parser.TryParse(value, out long declared, out var digits) || digits != value.Length || declared < 0)
                {
                    throw new UpstreamException($"malformed Content-Length: \"{Printable(value)}\"");
                }
                if (DeclaredLength is { } earlier && earlier != declared)
                {
                    throw new UpstreamException($"two different Content-Length headers ({earlier} and {declared})");
                }
                DeclaredLength = declared;
            }
            else if (Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8))
            {
                // Only plain chunking: another coding (gzip, chunked) would reach the client still encoded and unlabelled,
                // and a second Transfer-Encoding header would chunk twice.
                if (Chunked || !Ascii.EqualsIgnoreCase(value, "chunked"u8))
                {
                    throw new UpstreamException($"unsupported Transfer-Encoding: \"{Printable(value)}\" (only chunked, once)");
                }
                Chunked = true;
            }
            else if (Ascii.EqualsIgnoreCase(name, "content-type"u8))
            {
                RequirePrintable(name, value);
                ContentType = value.SequenceEqual("application/json"u8) ? "application/json"
                    : value.SequenceEqual("text/event-stream"u8) ? "text/event-stream"
                    : Encoding.Latin1.GetString(value);
            }
            else if (Ascii.EqualsIgnoreCase(name, "connection"u8))
            {
                if (Contains(value, "close"u8))
                {
                    KeepAlive = false;
                }
                else if (Contains(value, "keep-alive"u8))
                {
                    KeepAlive = true;
                }
            }
            else
            {
                for (var i = 0; i < KeptHeaderBytes.Length; i++)
                {
                    if (Ascii.EqualsIgnoreCase(name, KeptHeaderBytes[i]))
                    {
                        RequirePrintable(name, value);
                        // A server names the same instance in every answer: keep the string instead of a new one each time.
                        var last = lastKept[i];
                        Kept[i] = last is not null && Ascii.Equals(value, last) ? last : (lastKept[i] = Encoding.Latin1.GetString(value));
                    }
                }
            }
        }
        if (Chunked && DeclaredLength is not null)
        {
            // RFC 9112 6.3: a sign of response splitting, to be handled as an error, not guessed at.
            throw new UpstreamException("both Transfer-Encoding and Content-Length in the answer");
        }
    }

    /// <summary>
    /// Header values passed on to the client must be printable ASCII: a model server is not trusted to keep control
    /// characters or raw bytes out of what the gateway writes (Kestrel would also refuse them, mid-response).
    /// </summary>
    private static void RequirePrintable(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (value.IndexOfAnyExceptInRange((byte)' ', (byte)'~') >= 0)
        {
            throw new UpstreamException($"malformed answer header {Printable(name)}: a control character or non-ASCII byte in \"{Printable(value)}\"");
        }
    }

    private static bool Contains(ReadOnlySpan<byte> value, ReadOnlySpan<byte> token)
    {
        Span<byte> lower = stackalloc byte[Math.Min(value.Length, 256)];
        var length = Ascii.ToLower(value[..lower.Length], lower, out var written) == OperationStatus.Done ? written : 0;
        return lower[..length].IndexOf(token) >= 0;
    }

    /// <summary>At most 80 characters of <paramref name="text"/>, anything unprintable as "?", for error messages.</summary>
    public static string Printable(ReadOnlySpan<byte> text)
    {
        var shown = text.Length > 80 ? text[..80] : text;
        var chars = Encoding.Latin1.GetString(shown).Select(c => c is >= ' ' and < (char)127 ? c : '?').ToArray();
        return new string(chars) + (text.Length > 80 ? "…" : "");
    }
}
