using System.Text;
using System.Text.Json;
using Atoll.Core.Batch;

namespace Atoll.Core.Tests.Batch;

public sealed class BatchRequestLineTests
{
    [Fact]
    public void Parse_returns_the_fields_and_the_body_bytes_exactly_as_in_the_file()
    {
        var line = """{ "url":"/v1/chat/completions", "body" : {"model":"llama","messages":[{"role":"user","content":"é \"q\" }"}],"n":{"model":"inner"}} ,"custom_id":"c1","method":"POST"}""";

        var r = BatchRequestLine.Parse(Encoding.UTF8.GetBytes(line));

        Assert.Equal("c1", r.CustomId);
        Assert.Equal("POST", r.Method);
        Assert.Equal(BatchEndpoints.ChatCompletions, r.Url);
        Assert.Equal("llama", r.Model);
        Assert.Equal("""{"model":"llama","messages":[{"role":"user","content":"é \"q\" }"}],"n":{"model":"inner"}}""", r.BodyText);
        Assert.Equal("inner", JsonDocument.Parse(r.Body).RootElement.GetProperty("n").GetProperty("model").GetString());
    }

    [Theory]
    [InlineData("{oops")]
    [InlineData("[]")]
    [InlineData("""{"method":"POST","url":"/v1/embeddings","body":{"model":"m"}}""")]
    [InlineData("""{"custom_id":"a","method":"POST","url":"/v1/embeddings"}""")]
    [InlineData("""{"custom_id":"a","method":"POST","url":"/v1/embeddings","body":{}}""")]
    public void Parse_refuses_lines_that_are_not_requests(string line) =>
        Assert.Throws<FormatException>(() => BatchRequestLine.Parse(Encoding.UTF8.GetBytes(line)));
}
