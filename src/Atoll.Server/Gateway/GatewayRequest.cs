using System.Buffers;
using System.Text.Json;
using Atoll.Core.Json;
using Atoll.Core.Routing;

namespace Atoll.Server.Gateway;

/// <summary>
/// What the gateway reads from an OpenAI request body to route it: the model, whether it streams, and the block
/// hashes of the prompt text that drive prefix affinity. The body itself is forwarded untouched.
/// </summary>
/// <param name="PrefixHashes">
/// <see cref="PrefixHasher.HashUtf8"/> of the prompt text: for chat, each message as <c>role: content\n</c> (content
/// parts' <c>text</c> one per line); for completions and embeddings, each string of the prompt/input on its own line.
/// </param>
/// <param name="PromptBytes">Length of that prompt text in UTF-8 bytes (for token estimates).</param>
/// <param name="MaxTokens">The answer's length limit (<c>max_completion_tokens</c> or <c>max_tokens</c>), when the client set one.</param>
internal sealed record GatewayRequest(string Model, bool Stream, ulong[] PrefixHashes, long PromptBytes, int? MaxTokens = null)
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64 };

    /// <summary>
    /// Parses <paramref name="body"/> for <paramref name="kind"/>; on bad input returns the OpenAI-style complaint.
    /// One pass of a <see cref="Utf8JsonReader"/> over the body: no document, no strings but the model name; the
    /// prompt is hashed from the JSON's bytes as it is read.
    /// </summary>
    public static (GatewayRequest? Request, string? Error, string? Param) Parse(ReadOnlySpan<byte> body, GatewayRoute kind)
    {
        var field = kind switch
        {
            GatewayRoute.ChatCompletions => "messages"u8,
            GatewayRoute.Completions => "prompt"u8,
            _ => "input"u8,
        };
        var reader = new Utf8JsonReader(body, ReaderOptions);
        string? model = null;
        var modelValid = false;
        var modelType = JsonTokenType.None;
        var stream = false;
        int? maxTokens = null;
        int? maxCompletionTokens = null; // wins over max_tokens, as in vLLM, whichever comes first
        var content = JsonTokenType.None;
        var contentItems = 0;
        var prompt = new PrefixHashBuilder();
        try
        {
            if (!reader.Read())
            {
                return (null, "We could not parse the JSON body of your request: the body is empty.", null);
            }
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                EnsureEnd(ref reader);
                return (null, "The request body must be a JSON object.", null);
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("model"u8))
                {
                    reader.Read();
                    modelType = reader.TokenType;
                    modelValid = reader.TokenType == JsonTokenType.String;
                    model = modelValid ? reader.GetString() : null;
                    modelValid = modelValid && !string.IsNullOrWhiteSpace(model);
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("stream"u8))
                {
                    reader.Read();
                    stream = reader.TokenType == JsonTokenType.True;
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("max_tokens"u8) || reader.ValueTextEquals("max_completion_tokens"u8))
                {
                    // Only read, for the time an answer may take; the model server judges the value.
                    var completion = reader.ValueTextEquals("max_completion_tokens"u8);
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var limit) && limit > 0)
                    {
                        if (completion)
                        {
                            maxCompletionTokens = limit;
                        }
                        else
                        {
                            maxTokens = limit;
                        }
                    }
                    reader.Skip();
                }
                else if (reader.ValueTextEquals(field))
                {
                    reader.Read();
                    content = reader.TokenType;
                    // A repeated property counts once, as the last one: start the prompt again.
                    prompt = new PrefixHashBuilder();
                    contentItems = AppendText(ref reader, ref prompt);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            EnsureEnd(ref reader);
        }
        catch (JsonException e)
        {
            return (null, $"We could not parse the JSON body of your request: {JsonErrors.Describe(e)}", null);
        }

        if (!modelValid)
        {
            return modelType switch
            {
                JsonTokenType.None or JsonTokenType.Null => (null, "you must provide a model parameter", "model"),
                JsonTokenType.String => (null, "'model' must not be empty", "model"),
                _ => (null, $"'model' must be a string, not {TypeName(modelType)}", "model"),
            };
        }
        var fieldName = kind switch
        {
            GatewayRoute.ChatCompletions => "messages",
            GatewayRoute.Completions => "prompt",
            _ => "input",
        };
        if (content is JsonTokenType.None or JsonTokenType.Null
            || (kind == GatewayRoute.ChatCompletions && (content != JsonTokenType.StartArray || contentItems == 0)))
        {
            return (null, $"'{fieldName}' is a required property" + (kind == GatewayRoute.ChatCompletions ? " and must be a non-empty array" : ""), fieldName);
        }
        return (new GatewayRequest(model!, stream, prompt.ToArray(), prompt.Length, maxCompletionTokens ?? maxTokens), null, null);
    }

    private static string TypeName(JsonTokenType type) => type switch
    {
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.StartObject => "an object",
        _ => type.ToString(),
    };

    /// <summary>After the root value only whitespace may follow: the reader throws at anything else.</summary>
    private static void EnsureEnd(ref Utf8JsonReader reader)
    {
        if (reader.Read())
        {
            throw new JsonException("Only one JSON value is allowed in the body.");
        }
    }

    /// <summary>
    /// Hashes the text of the value the reader is on and leaves the reader on its last token. Returns the number of
    /// items when it is an array. Strings become "text\n"; arrays their items in order; objects (chat messages,
    /// content parts) "role: " then their content, or else their text.
    /// </summary>
    private static int AppendText(ref Utf8JsonReader reader, ref PrefixHashBuilder prompt)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                AppendString(ref reader, ref prompt);
                prompt.Append("\n"u8);
                return 0;
            case JsonTokenType.StartArray:
                var items = 0;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    items++;
                    AppendText(ref reader, ref prompt);
                }
                return items;
            case JsonTokenType.StartObject:
                AppendObject(ref reader, ref prompt);
                return 0;
            default:
                reader.Skip();
                return 0;
        }
    }

    private static void AppendObject(ref Utf8JsonReader reader, ref PrefixHashBuilder prompt)
    {
        // Properties come in any order, and a repeated one counts as its last: one pass over the object keeps a copy
        // of the reader at the role's value and at the last content (or text) value, then hashes from those copies.
        var role = default(Utf8JsonReader);
        var content = default(Utf8JsonReader);
        var text = default(Utf8JsonReader);
        bool hasRole = false, hasContent = false, hasText = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isRole = reader.ValueTextEquals("role"u8);
            var isContent = !isRole && reader.ValueTextEquals("content"u8);
            var isText = !isRole && !isContent && reader.ValueTextEquals("text"u8);
            reader.Read();
            if (isRole)
            {
                hasRole = reader.TokenType == JsonTokenType.String;
                role = reader;
            }
            else if (isContent)
            {
                hasContent = true;
                content = reader;
            }
            else if (isText)
            {
                hasText = true;
                text = reader;
            }
            reader.Skip();
        }
        if (hasRole)
        {
            AppendString(ref role, ref prompt);
            prompt.Append(": "u8);
        }
        if (hasContent)
        {
            AppendText(ref content, ref prompt);
        }
        else if (hasText)
        {
            AppendText(ref text, ref prompt);
        }
    }

    private static void AppendString(ref Utf8JsonReader reader, ref PrefixHashBuilder prompt)
    {
        if (!reader.ValueIsEscaped)
        {
            prompt.Append(reader.ValueSpan);
            return;
        }
        // Unescaped text is never longer than its escaped form.
        var length = reader.ValueSpan.Length;
        byte[]? rented = null;
        Span<byte> buffer = length <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var written = reader.CopyString(buffer);
            prompt.Append(buffer[..written]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
