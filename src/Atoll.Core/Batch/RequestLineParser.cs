using System.Text.Json;

namespace Atoll.Core.Batch;

/// <summary>
/// Reads the fields of one input line with a single <see cref="Utf8JsonReader"/> pass: no document is built and the
/// body is only walked to find its <c>model</c> and its extent.
/// </summary>
internal static class RequestLineParser
{
    private const string Post = "POST";

    /// <summary>
    /// Throws <see cref="JsonException"/> when the line is not exactly one JSON value. When a field equals its
    /// <paramref name="expectedUrl"/> or <paramref name="expectedModel"/>, that string instance is returned instead of
    /// a new one: a 50,000-line file then allocates strings only for its custom_ids.
    /// </summary>
    public static RequestLineFields Parse(ReadOnlySpan<byte> line, string? expectedUrl = null, string? expectedModel = null)
    {
        var reader = new Utf8JsonReader(line, isFinalBlock: true, state: default);
        if (!reader.Read())
        {
            throw new JsonException("the line is empty");
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            EnsureEnd(ref reader);
            return default;
        }
        string? customId = null, method = null, url = null, model = null;
        bool hasBody = false, bodyIsObject = false;
        int bodyStart = 0, bodyLength = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("custom_id"u8))
            {
                customId = ReadString(ref reader);
            }
            else if (reader.ValueTextEquals("method"u8))
            {
                method = ReadString(ref reader, Post);
            }
            else if (reader.ValueTextEquals("url"u8))
            {
                url = ReadString(ref reader, expectedUrl);
            }
            else if (reader.ValueTextEquals("body"u8))
            {
                reader.Read();
                hasBody = reader.TokenType != JsonTokenType.Null;
                bodyIsObject = reader.TokenType == JsonTokenType.StartObject;
                bodyStart = (int)reader.TokenStartIndex;
                model = bodyIsObject ? ReadModel(ref reader, expectedModel) : null;
                reader.Skip();
                bodyLength = (int)reader.BytesConsumed - bodyStart;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        EnsureEnd(ref reader);
        return new RequestLineFields(true, customId, method, url, hasBody, bodyIsObject, model, bodyStart, bodyLength);
    }

    private static string? ReadString(ref Utf8JsonReader reader, string? likely = null)
    {
        reader.Read();
        var value = reader.TokenType != JsonTokenType.String ? null
            : likely is not null && reader.ValueTextEquals(likely) ? likely
            : GetString(ref reader);
        reader.Skip();
        return value;
    }

    private static string? GetString(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString();
        }
        catch (InvalidOperationException e)
        {
            // The reader does not check UTF-8 inside strings until they are decoded.
            throw new JsonException("a string is not valid UTF-8", null, null, reader.TokenStartIndex, e);
        }
    }

    /// <summary>Walks the body object's own properties; leaves the reader on the body's closing brace.</summary>
    private static string? ReadModel(ref Utf8JsonReader reader, string? likely)
    {
        string? model = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("model"u8))
            {
                model = ReadString(ref reader, likely);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return model;
    }

    private static void EnsureEnd(ref Utf8JsonReader reader)
    {
        // With isFinalBlock the reader itself throws on anything but whitespace after the value.
        if (reader.Read())
        {
            throw new JsonException("unexpected data after the JSON value");
        }
    }
}
