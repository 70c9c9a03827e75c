using System.Text;
using Atoll.Core.Batch;

namespace Atoll.Core.Tests.Batch;

public sealed class ChunkReaderTests
{
    [Theory]
    [InlineData("a\nb\r\nc\n", new[] { "a", "b", "c" })]
    [InlineData("a\nb", new[] { "a", "b" })]
    [InlineData("a\n\n  \nb\n\n", new[] { "a", "b" })]
    [InlineData("", new string[0])]
    [InlineData("\uFEFFa\n", new[] { "a" })]
    public async Task Yields_each_line_without_its_newline(string text, string[] expected)
    {
        var lines = new List<string>();
        await foreach (var line in ChunkReader.ReadLines(new MemoryStream(Encoding.UTF8.GetBytes(text))))
        {
            lines.Add(Encoding.UTF8.GetString(line));
        }

        Assert.Equal(expected, lines);
    }

    [Fact]
    public async Task Each_yielded_array_is_its_own_copy()
    {
        var data = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 2000).Select(i => $"line-{i}\n")));
        var lines = new List<byte[]>();
        await foreach (var line in ChunkReader.ReadLines(new TrickleStream(data, 1000)))
        {
            lines.Add(line);
        }

        Assert.Equal(2000, lines.Count);
        Assert.Equal("line-0", Encoding.UTF8.GetString(lines[0]));
        Assert.Equal("line-1999", Encoding.UTF8.GetString(lines[^1]));
    }
}
