using System.Text;
using System.Text.Json;

namespace Atoll.Sim;

/// <summary>What the simulator needs from a chat or text completion request.</summary>
internal sealed record CompletionRequest(string Model, string Prompt, int MaxTokens, bool MaxTokensGiven, bool Stream, bool IncludeUsage)
{
    public static CompletionRequest Parse(JsonElement body, bool chat, SimOptions options)
    {
        var prompt = chat ? RenderChat(body) : ReadPrompt(body);
        RequestBody.CheckModel(body, options.Model);
        var asked = (chat ? RequestBody.OptionalPositiveInt(body, "max_completion_tokens") : null)
            ?? RequestBody.OptionalPositiveInt(body, "max_tokens");
        var stream = RequestBody.OptionalBool(body, "stream");
        var includeUsage = false;
        if (RequestBody.Property(body, "stream_options") is { } streamOptions)
        {
            if (streamOptions.ValueKind != JsonValueKind.Object)
            {
                throw OpenAiException.WrongType("stream_options", "an object");
            }
            includeUsage = RequestBody.OptionalBool(streamOptions, "include_usage");
        }
        return new CompletionRequest(
            options.Model, prompt, Math.Min(asked ?? options.DefaultMaxTokens, options.MaxOutputTokens), asked is not null, stream, stream && includeUsage);
    }

    /// <summary>A chat template in the spirit of the real ones: every message with its role, then the assistant's turn.</summary>
    private static string RenderChat(JsonElement body)
    {
        if (RequestBody.Property(body, "messages") is not { } messages)
        {
            throw OpenAiException.Missing("messages");
        }
        if (messages.ValueKind != JsonValueKind.Array)
        {
            throw OpenAiException.WrongType("messages", "an array");
        }
        if (messages.GetArrayLength() == 0)
        {
            throw OpenAiException.Invalid("Invalid 'messages': empty array. Expected an array with minimum length 1.", "messages", "empty_array");
        }
        var text = new StringBuilder();
        var i = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var param = $"messages[{i++}]";
            if (message.ValueKind != JsonValueKind.Object)
            {
                throw OpenAiException.WrongType(param, "an object");
            }
            var role = RequestBody.Property(message, "role") is { ValueKind: JsonValueKind.String } r
                ? r.GetString()!
                : throw OpenAiException.Missing($"{param}.role");
            text.Append("<|").Append(role).Append("|>\n");
            AppendContent(text, RequestBody.Property(message, "content"), $"{param}.content");
            text.Append('\n');
        }
        return text.Append("<|assistant|>\n").ToString();
    }

    private static void AppendContent(StringBuilder text, JsonElement? content, string param)
    {
        switch (content)
        {
            case null:
                return;
            case { ValueKind: JsonValueKind.String } s:
                text.Append(s.GetString());
                return;
            case { ValueKind: JsonValueKind.Array } parts:
                foreach (var part in parts.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.Object && RequestBody.Property(part, "text") is { ValueKind: JsonValueKind.String } t)
                    {
                        text.Append(t.GetString());
                    }
                    else
                    {
                        // Images, audio and files stand for some prompt; their bytes do not matter here.
                        text.Append("[media]");
                    }
                }
                return;
            default:
                throw OpenAiException.WrongType(param, "a string or an array of content parts");
        }
    }

    /// <summary>A string, or an array holding one string or one list of token ids.</summary>
    private static string ReadPrompt(JsonElement body)
    {
        switch (RequestBody.Property(body, "prompt"))
        {
            case null:
                throw OpenAiException.Missing("prompt");
            case { ValueKind: JsonValueKind.String } s:
                return s.GetString()!;
            case { ValueKind: JsonValueKind.Array } array when array.GetArrayLength() == 1 && array[0].ValueKind == JsonValueKind.String:
                return array[0].GetString()!;
            case { ValueKind: JsonValueKind.Array } array when array.GetArrayLength() > 0 && array.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number):
                // Token ids: four characters each, so the token count comes out right.
                return string.Concat(array.EnumerateArray().Select(e => e.GetRawText().PadLeft(4)[^4..]));
            case { ValueKind: JsonValueKind.Array }:
                throw OpenAiException.Invalid("Invalid 'prompt': atoll sim takes one prompt per request (a string or one list of token ids).", "prompt", "invalid_value");
            default:
                throw OpenAiException.WrongType("prompt", "a string or an array");
        }
    }
}
