using System.Text;
using System.Text.Json;
using Atoll.Core.Batch;

namespace Atoll.Core.Tests.Batch;

public sealed class BatchInputValidatorTests
{
    [Fact]
    public async Task Valid_file_gives_model_line_count_and_chunks_whose_byte_ranges_hold_exactly_their_lines()
    {
        var text = BatchFiles.File(300);
        var bytes = Encoding.UTF8.GetBytes(text);

        var v = await BatchFiles.Validate(text, new BatchLimits { ChunkLines = 128 });

        Assert.True(v.IsValid, string.Join("; ", v.Errors.Select(e => e.Message)));
        Assert.Equal("llama", v.Model);
        Assert.Equal(300, v.LineCount);
        Assert.Equal(bytes.Length, v.Bytes);
        Assert.Equal([(0, 1, 128), (1, 129, 128), (2, 257, 44)], v.Chunks.Select(c => (c.Seq, c.FirstLine, c.LineCount)));
        Assert.Equal(0, v.Chunks[0].StartOffset);
        Assert.Equal(bytes.Length, v.Chunks[^1].EndOffset);
        for (var i = 1; i < v.Chunks.Count; i++)
        {
            Assert.Equal(v.Chunks[i - 1].EndOffset, v.Chunks[i].StartOffset);
        }
        foreach (var chunk in v.Chunks)
        {
            var lines = await BatchFiles.ReadChunk(bytes, chunk);
            Assert.Equal(chunk.LineCount, lines.Count);
            Assert.Equal($"req-{chunk.FirstLine}", CustomId(lines[0]));
            Assert.Equal($"req-{chunk.FirstLine + chunk.LineCount - 1}", CustomId(lines[^1]));
        }
    }

    [Fact]
    public async Task Crlf_line_endings_are_accepted_and_counted_in_the_offsets()
    {
        var text = BatchFiles.File(5, "\r\n");
        var bytes = Encoding.UTF8.GetBytes(text);

        var v = await BatchFiles.Validate(text, new BatchLimits { ChunkLines = 2 });

        Assert.True(v.IsValid);
        Assert.Equal(5, v.LineCount);
        Assert.Equal(3, v.Chunks.Count);
        Assert.Equal(bytes.Length, v.Chunks[^1].EndOffset);
        Assert.Equal((byte)'\n', bytes[v.Chunks[0].EndOffset - 1]);
        Assert.Equal((byte)'\r', bytes[v.Chunks[0].EndOffset - 2]);
        var second = await BatchFiles.ReadChunk(bytes, v.Chunks[1]);
        Assert.Equal(["req-3", "req-4"], second.Select(CustomId));
        Assert.All(second, l => Assert.False(l.EndsWith('\r')));
    }

    [Fact]
    public async Task Multibyte_utf8_text_keeps_byte_offsets_exact()
    {
        var text = string.Concat(Enumerable.Range(1, 4).Select(i => BatchFiles.Line($"ré-{i}", content: "日本語 ünïcödé 🚀") + "\n"));
        var bytes = Encoding.UTF8.GetBytes(text);
        Assert.NotEqual(text.Length, bytes.Length);

        var v = await BatchFiles.Validate(text, new BatchLimits { ChunkLines = 3 });

        Assert.True(v.IsValid);
        Assert.Equal(bytes.Length, v.Chunks[^1].EndOffset);
        var last = await BatchFiles.ReadChunk(bytes, v.Chunks[1]);
        var line = Assert.Single(last);
        Assert.Equal("ré-4", CustomId(line));
        Assert.Contains("日本語 ünïcödé 🚀", line);
    }

    [Fact]
    public async Task Last_line_without_newline_ends_the_last_chunk_at_the_end_of_the_file()
    {
        var text = BatchFiles.File(3).TrimEnd('\n');

        var v = await BatchFiles.Validate(text);

        Assert.True(v.IsValid);
        Assert.Equal(3, v.LineCount);
        Assert.Equal(Encoding.UTF8.GetByteCount(text), Assert.Single(v.Chunks).EndOffset);
    }

    [Fact]
    public async Task Trailing_blank_lines_are_ignored_and_left_out_of_the_chunks()
    {
        var body = BatchFiles.File(2);
        var v = await BatchFiles.Validate(body + "\n  \r\n\n");

        Assert.True(v.IsValid);
        Assert.Equal(2, v.LineCount);
        Assert.Equal(Encoding.UTF8.GetByteCount(body), Assert.Single(v.Chunks).EndOffset);
    }

    [Fact]
    public async Task A_leading_utf8_bom_is_ignored()
    {
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(BatchFiles.File(2))).ToArray();

        var v = await BatchInputValidator.ValidateAsync(new MemoryStream(bytes), BatchEndpoints.ChatCompletions, new BatchLimits(), CancellationToken.None);

        Assert.True(v.IsValid, string.Join("; ", v.Errors.Select(e => e.Message)));
        Assert.Equal(0, v.Chunks[0].StartOffset);
        var lines = await BatchFiles.ReadChunk(bytes, v.Chunks[0]);
        Assert.Equal("req-1", BatchRequestLine.Parse(Encoding.UTF8.GetBytes(lines[0])).CustomId);
    }

    [Fact]
    public async Task Reads_split_anywhere_and_lines_longer_than_the_read_buffer_give_the_same_result()
    {
        var big = new string('x', 200_000);
        var text = BatchFiles.Line("a") + "\n" + BatchFiles.Line("b", content: big) + "\n" + BatchFiles.Line("c") + "\n";
        var bytes = Encoding.UTF8.GetBytes(text);
        var limits = new BatchLimits { ChunkLines = 1 };

        var whole = await BatchInputValidator.ValidateAsync(new MemoryStream(bytes), BatchEndpoints.ChatCompletions, limits, CancellationToken.None);
        var trickled = await BatchInputValidator.ValidateAsync(new TrickleStream(bytes, 7), BatchEndpoints.ChatCompletions, limits, CancellationToken.None);

        Assert.True(whole.IsValid);
        Assert.Equal(whole.Chunks, trickled.Chunks);
        Assert.Equal(3, trickled.Chunks.Count);
        var middle = await BatchFiles.ReadChunk(bytes, trickled.Chunks[1]);
        Assert.Contains(big, Assert.Single(middle));
    }

    [Theory]
    [InlineData(BatchEndpoints.Completions)]
    [InlineData(BatchEndpoints.Embeddings)]
    public async Task Other_supported_endpoints_validate_against_their_own_url(string endpoint)
    {
        var v = await BatchFiles.Validate(BatchFiles.Line("a", url: endpoint) + "\n", endpoint: endpoint);

        Assert.True(v.IsValid);
    }

    private static string CustomId(string line) =>
        JsonDocument.Parse(line).RootElement.GetProperty("custom_id").GetString()!;
}
