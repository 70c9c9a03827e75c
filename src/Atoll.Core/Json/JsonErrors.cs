using System.Text.Json;

namespace Atoll.Core.Json;

/// <summary>Parse errors of System.Text.Json in a user's terms.</summary>
public static class JsonErrors
{
    /// <summary>
    /// "'}' is an invalid start of a value. LineNumber: 0 | BytePositionInLine: 28." becomes "'}' is an invalid start
    /// of a value (line 1, byte 29)." (or "(at byte 29)" without <paramref name="withLine"/>, for text that is one line
    /// of a file whose line the caller names); a serializer's " Path: $.x | ..." tail is dropped. Lines and bytes
    /// count from 1, as editors do; the reader counts from 0.
    /// </summary>
    public static string Describe(JsonException e, bool withLine = true)
    {
        ArgumentNullException.ThrowIfNull(e);
        var text = e.Message.Split(" Path:")[0];
        var at = text.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (at < 0)
        {
            return text;
        }
        var sentence = text[..at].TrimEnd().TrimEnd('.');
        return (e.LineNumber, e.BytePositionInLine) switch
        {
            ({ } line, { } position) when withLine => $"{sentence} (line {line + 1}, byte {position + 1}).",
            (_, { } position) => $"{sentence} (at byte {position + 1}).",
            _ => sentence + ".",
        };
    }
}
