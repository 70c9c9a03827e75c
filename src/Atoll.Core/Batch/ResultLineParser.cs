using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Atoll.Core.Batch;

/// <summary>Reads only what the finalizer needs from a result line: custom_id, error, response.status_code.</summary>
internal static class ResultLineParser
{
    public static bool TryRead(ReadOnlySpan<byte> line, [NotNullWhen(true)] out string? customId, out bool isSuccess)
    {
        customId = null;
        isSuccess = false;
        try
        {
            var reader = new Utf8JsonReader(line, isFinalBlock: true, state: default);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }
            var errorIsNull = true;
            int? status = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("custom_id"u8))
                {
                    reader.Read();
                    customId = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else if (reader.ValueTextEquals("error"u8))
                {
                    reader.Read();
                    errorIsNull = reader.TokenType == JsonTokenType.Null;
                }
                else if (reader.ValueTextEquals("response"u8))
                {
                    reader.Read();
                    status = reader.TokenType == JsonTokenType.StartObject ? ReadStatus(ref reader) : null;
                }
                else
                {
                    reader.Read();
                }
                reader.Skip();
            }
            if (reader.Read())
            {
                return false;
            }
            isSuccess = errorIsNull && status is >= 200 and <= 299;
            return !string.IsNullOrEmpty(customId);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return false; // not JSON, or a custom_id that is not valid UTF-8
        }
    }

    /// <summary>Reads <c>status_code</c> from the response object; leaves the reader on its closing brace.</summary>
    private static int? ReadStatus(ref Utf8JsonReader reader)
    {
        int? status = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isStatus = reader.ValueTextEquals("status_code"u8);
            reader.Read();
            if (isStatus && reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value))
            {
                status = value;
            }
            reader.Skip();
        }
        return status;
    }
}
