using System.Text;
using System.Text.Json;

namespace Atoll.Server.Tests.Batch;

/// <summary>Batch input files (JSONL) for the tests.</summary>
internal static class BatchInput
{
    public const string Model = "llama";

    /// <summary>One chat request line; <paramref name="url"/> and <paramref name="model"/> can be made wrong on purpose.</summary>
    public static string Line(string customId, string model = Model, string url = "/v1/chat/completions") =>
        JsonSerializer.Serialize(new
        {
            custom_id = customId,
            method = "POST",
            url,
            body = new { model, max_tokens = 4, messages = new[] { new { role = "user", content = $"question {customId}" } } },
        });

    /// <summary><paramref name="count"/> valid lines with custom_ids req-1 … req-N, newline-terminated.</summary>
    public static string Lines(int count)
    {
        var text = new StringBuilder();
        for (var i = 1; i <= count; i++)
        {
            text.Append(Line($"req-{i}")).Append('\n');
        }
        return text.ToString();
    }

    public static IEnumerable<string> CustomIds(int count) => Enumerable.Range(1, count).Select(i => $"req-{i}");
}
