using System.Text.Json;

namespace Atoll.Server.Gateway;

/// <summary>Reads <c>usage.completion_tokens</c> from an OpenAI answer, for token rate limits and metrics.</summary>
internal static class Usage
{
    public static int CompletionTokens(ReadOnlySpan<byte> json)
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
                    // A model server's number, not ours: a fraction or one out of range counts as none.
                    return reader.TryGetInt32(out var tokens) && tokens > 0 ? tokens : 0;
                }
            }
        }
        catch (JsonException)
        {
        }
        return 0;
    }
}
