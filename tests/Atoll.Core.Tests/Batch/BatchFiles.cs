using System.Text;
using Atoll.Core.Batch;

namespace Atoll.Core.Tests.Batch;

/// <summary>Builds batch input lines and files for tests.</summary>
internal static class BatchFiles
{
    public static string Line(string customId, string model = "llama", string url = BatchEndpoints.ChatCompletions,
        string content = "hello", string method = "POST") =>
        $$$"""{"custom_id":"{{{customId}}}","method":"{{{method}}}","url":"{{{url}}}","body":{"model":"{{{model}}}","messages":[{"role":"user","content":"{{{content}}}"}]}}""";

    public static string File(int lines, string newline = "\n") =>
        string.Concat(Enumerable.Range(1, lines).Select(i => Line($"req-{i}") + newline));

    public static MemoryStream Stream(string text) => new(Encoding.UTF8.GetBytes(text));

    public static Task<BatchValidation> Validate(string text, BatchLimits? limits = null, string endpoint = BatchEndpoints.ChatCompletions) =>
        BatchInputValidator.ValidateAsync(Stream(text), endpoint, limits ?? new BatchLimits(), CancellationToken.None);

    public static async Task<List<string>> ReadChunk(byte[] file, ChunkRange chunk)
    {
        using var range = new MemoryStream(file, (int)chunk.StartOffset, (int)chunk.Length);
        var lines = new List<string>();
        await foreach (var line in ChunkReader.ReadLines(range))
        {
            lines.Add(Encoding.UTF8.GetString(line));
        }
        return lines;
    }
}
