using System.Text;
using System.Text.Json;
using Atoll.Core.Json;

namespace Atoll.Core.Batch;

/// <summary>One request of a batch input file, as a worker sends it to its model server.</summary>
/// <param name="Body">The line's <c>body</c> object, byte for byte as it appears in the file (UTF-8 JSON).</param>
public sealed record BatchRequestLine(string CustomId, string Method, string Url, string Model, byte[] Body)
{
    public string BodyText => Encoding.UTF8.GetString(Body);

    /// <summary>
    /// Parses a line (without its newline; a leading UTF-8 BOM is tolerated). Throws <see cref="FormatException"/>
    /// when the line is not a request object with a custom_id, method, url and a body with a model.
    /// </summary>
    public static BatchRequestLine Parse(ReadOnlySpan<byte> line)
    {
        if (line.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            line = line[3..];
        }
        RequestLineFields f;
        try
        {
            f = RequestLineParser.Parse(line);
        }
        catch (JsonException e)
        {
            throw new FormatException($"batch request line is not valid JSON: {JsonErrors.Describe(e, withLine: false)}", e);
        }
        if (!f.IsObject)
        {
            throw new FormatException("batch request line is not a JSON object");
        }
        return new BatchRequestLine(
            Require(f.CustomId, "custom_id"),
            Require(f.Method, "method"),
            Require(f.Url, "url"),
            f.BodyIsObject ? Require(f.Model, "body.model") : throw new FormatException("batch request line has no body object"),
            line.Slice(f.BodyStart, f.BodyLength).ToArray());
    }

    private static string Require(string? value, string name) =>
        string.IsNullOrEmpty(value) ? throw new FormatException($"batch request line has no string {name}") : value;
}
