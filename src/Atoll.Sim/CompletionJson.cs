using System.Text.Json;

namespace Atoll.Sim;

/// <summary>The wire shapes of chat and text completions, whole and streamed.</summary>
internal sealed record CompletionJson(bool Chat, string Id, long Created, string Model)
{
    public void WriteResponse(Utf8JsonWriter w, string text, string finishReason, Usage usage)
    {
        w.WriteStartObject();
        WriteHeader(w, Chat ? "chat.completion" : "text_completion");
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        if (Chat)
        {
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            w.WriteString("content", text);
            w.WriteEndObject();
        }
        else
        {
            w.WriteString("text", text);
        }
        w.WriteNull("logprobs");
        w.WriteString("finish_reason", finishReason);
        w.WriteEndObject();
        w.WriteEndArray();
        usage.Write(w);
        w.WriteEndObject();
    }

    /// <summary>A streamed piece: the first carries the role, the last (with null <paramref name="text"/>) the finish reason.</summary>
    public void WriteChunk(Utf8JsonWriter w, string? text, bool first, string? finishReason)
    {
        w.WriteStartObject();
        WriteHeader(w, Chat ? "chat.completion.chunk" : "text_completion");
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        if (Chat)
        {
            w.WriteStartObject("delta");
            if (first)
            {
                w.WriteString("role", "assistant");
            }
            if (text is not null)
            {
                w.WriteString("content", text);
            }
            w.WriteEndObject();
        }
        else
        {
            w.WriteString("text", text ?? "");
        }
        w.WriteNull("logprobs");
        JsonResponse.WriteNullable(w, "finish_reason", finishReason);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>The extra last chunk of <c>stream_options.include_usage</c>: no choices, only usage.</summary>
    public void WriteUsageChunk(Utf8JsonWriter w, Usage usage)
    {
        w.WriteStartObject();
        WriteHeader(w, Chat ? "chat.completion.chunk" : "text_completion");
        w.WriteStartArray("choices");
        w.WriteEndArray();
        usage.Write(w);
        w.WriteEndObject();
    }

    private void WriteHeader(Utf8JsonWriter w, string type)
    {
        w.WriteString("id", Id);
        w.WriteString("object", type);
        w.WriteNumber("created", Created);
        w.WriteString("model", Model);
    }

    /// <summary>The <c>usage</c> object of a completion.</summary>
    internal sealed record Usage(int PromptTokens, int CompletionTokens, int CachedTokens)
    {
        public void Write(Utf8JsonWriter w)
        {
            w.WriteStartObject("usage");
            w.WriteNumber("prompt_tokens", PromptTokens);
            w.WriteNumber("completion_tokens", CompletionTokens);
            w.WriteNumber("total_tokens", PromptTokens + CompletionTokens);
            w.WriteStartObject("prompt_tokens_details");
            w.WriteNumber("cached_tokens", CachedTokens);
            w.WriteEndObject();
            w.WriteEndObject();
        }
    }
}
