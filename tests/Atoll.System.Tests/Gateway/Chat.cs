using System.Net;
using System.Text.Json;

namespace Atoll.System.Tests.Gateway;

/// <summary>OpenAI chat request bodies and checks of what comes back.</summary>
internal static class Chat
{
    public const string Model = "m";

    public static object Request(string prompt, int maxTokens, bool stream = false, string model = Model) =>
        new { model, messages = new[] { new { role = "user", content = prompt } }, max_tokens = maxTokens, stream };

    /// <summary>
    /// Asserts a complete non-streaming chat completion: 200, JSON, one choice whose content has exactly
    /// <paramref name="maxTokens"/> words (the sim's tokens) and finish_reason "length". Returns the content.
    /// </summary>
    public static string AssertComplete(HttpStatusCode status, string body, int maxTokens)
    {
        Assert.True(status == HttpStatusCode.OK, $"expected 200, got {(int)status}: {body}");
        using var doc = JsonDocument.Parse(body);
        var choice = doc.RootElement.GetProperty("choices")[0];
        var content = choice.GetProperty("message").GetProperty("content").GetString() ?? "";
        Assert.Equal(maxTokens, content.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(maxTokens, doc.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        return content;
    }

    /// <summary>
    /// Asserts an error in OpenAI's shape, <c>{"error":{"message","type","param","code"}}</c>, with the given status
    /// (and code/param when given). Returns the error object's JSON.
    /// </summary>
    public static async Task<JsonElement> AssertOpenAiErrorAsync(HttpResponseMessage response, HttpStatusCode status, string? code = null, string? param = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return AssertOpenAiErrorJson(body, code, param);
    }

    /// <summary>Asserts <paramref name="json"/> is <c>{"error":{"message","type","param","code"}}</c>.</summary>
    public static JsonElement AssertOpenAiErrorJson(string json, string? code = null, string? param = null)
    {
        using var doc = JsonDocument.Parse(json);
        Assert.True(doc.RootElement.TryGetProperty("error", out var error), $"no \"error\" object in {json}");
        Assert.Equal(JsonValueKind.Object, error.ValueKind);
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()), $"empty error message in {json}");
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("type").GetString()), $"empty error type in {json}");
        // OpenAI always sends both keys, null when not applicable.
        Assert.True(error.TryGetProperty("param", out var p), $"no \"param\" in {json}");
        Assert.True(error.TryGetProperty("code", out var c), $"no \"code\" in {json}");
        if (code is not null)
        {
            Assert.Equal(code, c.GetString());
        }
        if (param is not null)
        {
            Assert.Equal(param, p.GetString());
        }
        return error.Clone();
    }

    /// <summary>The <c>data:</c> payloads of an SSE body, in order.</summary>
    public static List<string> DataLines(string sse) =>
        [.. sse.Split('\n').Where(l => l.StartsWith("data:", StringComparison.Ordinal)).Select(l => l[5..].Trim())];
}
