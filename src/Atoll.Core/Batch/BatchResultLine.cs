using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Atoll.Core.Batch;

/// <summary>
/// Lines of a batch's output and error files in OpenAI's format. Writers return one compact JSON object as UTF-8
/// without a newline (the same shape <see cref="ChunkReader.ReadLines"/> returns); the caller joins lines with "\n".
/// </summary>
/// <remarks>
/// Output file: <c>{"id","custom_id","response":{"status_code","request_id","body"},"error":null}</c>.
/// Error file: <c>{"id","custom_id","response":null|{non-2xx response},"error":{"code","message"}}</c>.
/// The model server's body is embedded as JSON (re-serialized compactly so it cannot break the line); a body that
/// is not JSON is embedded as a string.
/// </remarks>
public static class BatchResultLine
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>An output-file line for a 2xx answer.</summary>
    public static byte[] Success(string customId, int statusCode, string requestId, ReadOnlySpan<byte> body, string? id = null)
    {
        if (statusCode is < 200 or > 299)
        {
            throw new ArgumentOutOfRangeException(nameof(statusCode), statusCode, "a success line needs a 2xx status; use ErrorResponse");
        }
        using var doc = TryParse(body);
        return WithResponse(id, customId, statusCode, requestId, body, doc, null, null);
    }

    /// <summary>
    /// An error-file line for a non-2xx answer from the model server (a 4xx is not retried). The error's code and
    /// message default to the body's OpenAI-style <c>error.code</c> (or <c>error.type</c>) and <c>error.message</c>.
    /// </summary>
    public static byte[] ErrorResponse(string customId, int statusCode, string requestId, ReadOnlySpan<byte> body,
        string? code = null, string? message = null, string? id = null)
    {
        if (statusCode is >= 200 and <= 299)
        {
            throw new ArgumentOutOfRangeException(nameof(statusCode), statusCode, "an error line needs a non-2xx status; use Success");
        }
        using var doc = TryParse(body);
        code ??= BodyError(doc, "code") ?? BodyError(doc, "type") ?? $"http_{statusCode}";
        message ??= BodyError(doc, "message") ?? $"the model server answered HTTP {statusCode}";
        return WithResponse(id, customId, statusCode, requestId, body, doc, code, message);
    }

    /// <summary>An error-file line for a request that got no answer (codes in <see cref="BatchResultCodes"/>).</summary>
    public static byte[] Failure(string customId, string code, string message, string? id = null)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            WriteStart(w, id, customId);
            w.WriteNull("response");
            WriteError(w, code, message);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads a result line's custom_id and whether it is a success (no error and a 2xx response).</summary>
    public static bool TryRead(ReadOnlySpan<byte> line, [NotNullWhen(true)] out string? customId, out bool isSuccess) =>
        ResultLineParser.TryRead(line, out customId, out isSuccess);

    public static bool TryReadCustomId(ReadOnlySpan<byte> line, [NotNullWhen(true)] out string? customId) =>
        ResultLineParser.TryRead(line, out customId, out _);

    /// <summary>True for an output-file line; throws <see cref="FormatException"/> when the line is not a result line.</summary>
    public static bool IsSuccess(ReadOnlySpan<byte> line) =>
        ResultLineParser.TryRead(line, out _, out var success) ? success : throw new FormatException("not a batch result line");

    private static byte[] WithResponse(string? id, string customId, int statusCode, string requestId,
        ReadOnlySpan<byte> body, JsonDocument? doc, string? errorCode, string? errorMessage)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + body.Length);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            WriteStart(w, id, customId);
            w.WriteStartObject("response");
            w.WriteNumber("status_code", statusCode);
            w.WriteString("request_id", requestId);
            w.WritePropertyName("body");
            if (doc is not null)
            {
                doc.RootElement.WriteTo(w);
            }
            else
            {
                w.WriteStringValue(Encoding.UTF8.GetString(body));
            }
            w.WriteEndObject();
            if (errorCode is null)
            {
                w.WriteNull("error");
            }
            else
            {
                WriteError(w, errorCode, errorMessage ?? errorCode);
            }
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteStart(Utf8JsonWriter w, string? id, string customId)
    {
        w.WriteStartObject();
        w.WriteString("id", id ?? BatchIds.NewRequestId());
        w.WriteString("custom_id", customId);
    }

    private static void WriteError(Utf8JsonWriter w, string code, string message)
    {
        w.WriteStartObject("error");
        w.WriteString("code", code);
        w.WriteString("message", message);
        w.WriteEndObject();
    }

    private static JsonDocument? TryParse(ReadOnlySpan<byte> body)
    {
        if (body.Trim(" \t\r\n"u8).IsEmpty)
        {
            return null;
        }
        try
        {
            var reader = new Utf8JsonReader(body, isFinalBlock: true, state: default);
            var doc = JsonDocument.ParseValue(ref reader);
            if (reader.Read())
            {
                doc.Dispose();
                return null;
            }
            return doc;
        }
        catch (JsonException)
        {
            return null; // not JSON: embedded as a string instead
        }
    }

    private static string? BodyError(JsonDocument? doc, string field) =>
        doc is { RootElement.ValueKind: JsonValueKind.Object }
        && doc.RootElement.TryGetProperty("error", out var error)
        && error.ValueKind == JsonValueKind.Object
        && error.TryGetProperty(field, out var value)
        && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
