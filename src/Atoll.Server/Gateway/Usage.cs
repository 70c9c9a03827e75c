using System.Text.Json;

namespace Atoll.Server.Gateway;

/// <summary>Reads <c>usage.completion_tokens</c> from an OpenAI answer, for token rate limits and metrics.</summary>
internal static class Usage
{
    public static int CompletionTokens(ReadOnlySpan<byte> json) => FromLastUsage(json) ?? FromWholeAnswer(json);

    /// <summary>
    /// The usual case without reading the whole answer: OpenAI-compatible servers write <c>usage</c> last, so when
    /// <c>"usage"</c> occurs once, as a key (after <c>{</c> or <c>,</c>: a quote inside a string is escaped, so it
    /// starts a string there, and <c>:</c> follows), its object is read on its own. It is the top-level one when only
    /// the closing brace of the answer follows it. Null otherwise (and when it holds no <c>completion_tokens</c>
    /// number), and the whole answer is read instead. Unlike that read, this one does not notice malformed JSON
    /// before the usage (a model server's mistake): the tokens it reports are charged all the same.
    /// </summary>
    private static int? FromLastUsage(ReadOnlySpan<byte> json)
    {
        var at = json.LastIndexOf("\"usage\""u8);
        if (at < 0 || json[..at].IndexOf("\"usage\""u8) >= 0)
        {
            return null;
        }
        var before = json[..at].TrimEnd(Whitespace);
        if (before.IsEmpty || before[^1] is not ((byte)'{' or (byte)','))
        {
            return null;
        }
        var rest = json[(at + 7)..].TrimStart(Whitespace);
        if (rest.IsEmpty || rest[0] != (byte)':')
        {
            return null;
        }
        rest = rest[1..].TrimStart(Whitespace);
        if (rest.IsEmpty || rest[0] != (byte)'{')
        {
            return null;
        }
        var reader = new Utf8JsonReader(rest);
        int? tokens = null;
        try
        {
            reader.Read(); // the object's start
            while (reader.Read() && reader.CurrentDepth > 0)
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && tokens is null
                    && reader.ValueTextEquals("completion_tokens"u8) && reader.Read() && reader.TokenType == JsonTokenType.Number)
                {
                    tokens = Count(ref reader);
                }
            }
        }
        catch (JsonException)
        {
            return null;
        }
        // The reader stopped on the object's end: what follows must be the end of the whole answer.
        return reader.TokenType == JsonTokenType.EndObject && rest[(int)reader.BytesConsumed..].Trim(Whitespace).SequenceEqual("}"u8) ? tokens : null;
    }

    private static ReadOnlySpan<byte> Whitespace => " \t\r\n"u8;

    private static int FromWholeAnswer(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        try
        {
            var depth = -1;
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("usage"u8))
                {
                    depth = reader.CurrentDepth;
                }
                else if (depth >= 0 && reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1
                    && reader.ValueTextEquals("completion_tokens"u8) && reader.Read() && reader.TokenType == JsonTokenType.Number)
                {
                    return Count(ref reader);
                }
            }
        }
        catch (JsonException)
        {
        }
        return 0;
    }

    /// <summary>A model server's number, not ours: a fraction or one out of range counts as none.</summary>
    private static int Count(ref Utf8JsonReader reader) => reader.TryGetInt32(out var tokens) && tokens > 0 ? tokens : 0;
}
