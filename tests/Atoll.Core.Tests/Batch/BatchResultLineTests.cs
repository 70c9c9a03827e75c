using System.Text;
using System.Text.Json;
using Atoll.Core.Batch;

namespace Atoll.Core.Tests.Batch;

public sealed class BatchResultLineTests
{
    private static readonly byte[] ChatBody = Encoding.UTF8.GetBytes("""
        {
          "id": "chatcmpl-1",
          "choices": [{"message": {"role": "assistant", "content": "héllo\nworld"}}],
          "usage": {"total_tokens": 12345678901234}
        }
        """);

    [Fact]
    public void Success_line_has_openai_fields_and_embeds_the_body_as_json_on_one_line()
    {
        var bytes = BatchResultLine.Success("c1", 200, "req_abc", ChatBody);

        Assert.DoesNotContain((byte)'\n', bytes);
        var root = JsonDocument.Parse(bytes).RootElement;
        Assert.Equal(["id", "custom_id", "response", "error"], root.EnumerateObject().Select(p => p.Name));
        Assert.StartsWith("batch_req_", root.GetProperty("id").GetString());
        Assert.Equal("c1", root.GetProperty("custom_id").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("error").ValueKind);
        var response = root.GetProperty("response");
        Assert.Equal(["status_code", "request_id", "body"], response.EnumerateObject().Select(p => p.Name));
        Assert.Equal(200, response.GetProperty("status_code").GetInt32());
        Assert.Equal("req_abc", response.GetProperty("request_id").GetString());
        var body = response.GetProperty("body");
        Assert.Equal(JsonValueKind.Object, body.ValueKind);
        Assert.Equal("héllo\nworld", body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(12345678901234, body.GetProperty("usage").GetProperty("total_tokens").GetInt64());
        Assert.Contains("héllo", Encoding.UTF8.GetString(bytes));
    }

    [Fact]
    public void Ids_are_random_unless_given()
    {
        var a = JsonDocument.Parse(BatchResultLine.Success("c", 200, "r", "{}"u8)).RootElement.GetProperty("id").GetString();
        var b = JsonDocument.Parse(BatchResultLine.Success("c", 200, "r", "{}"u8)).RootElement.GetProperty("id").GetString();
        var given = JsonDocument.Parse(BatchResultLine.Failure("c", "x", "y", id: "batch_req_fixed")).RootElement.GetProperty("id").GetString();

        Assert.NotEqual(a, b);
        Assert.Equal("batch_req_fixed", given);
    }

    [Fact]
    public void A_body_that_is_not_json_is_embedded_as_a_string()
    {
        var root = JsonDocument.Parse(BatchResultLine.Success("c", 200, "r", "plain text\n"u8)).RootElement;

        Assert.Equal("plain text\n", root.GetProperty("response").GetProperty("body").GetString());
    }

    [Fact]
    public void Model_4xx_goes_to_the_error_file_with_its_response_and_the_bodys_error_code()
    {
        var body = """{"error":{"message":"max_tokens is too large","type":"invalid_request_error","code":"context_length_exceeded"}}"""u8;

        var bytes = BatchResultLine.ErrorResponse("c2", 400, "req_x", body);

        var root = JsonDocument.Parse(bytes).RootElement;
        Assert.Equal(["id", "custom_id", "response", "error"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(400, root.GetProperty("response").GetProperty("status_code").GetInt32());
        Assert.Equal("invalid_request_error",
            root.GetProperty("response").GetProperty("body").GetProperty("error").GetProperty("type").GetString());
        var error = root.GetProperty("error");
        Assert.Equal(["code", "message"], error.EnumerateObject().Select(p => p.Name));
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
        Assert.Equal("max_tokens is too large", error.GetProperty("message").GetString());
        Assert.False(BatchResultLine.IsSuccess(bytes));
    }

    [Fact]
    public void Error_response_without_an_openai_error_body_gets_an_http_code()
    {
        var error = JsonDocument.Parse(BatchResultLine.ErrorResponse("c", 404, "r", "not found"u8)).RootElement.GetProperty("error");

        Assert.Equal("http_404", error.GetProperty("code").GetString());
        Assert.Contains("404", error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData(BatchResultCodes.BatchExpired)]
    [InlineData(BatchResultCodes.BatchCancelled)]
    [InlineData(BatchResultCodes.RequestTimeout)]
    [InlineData(BatchResultCodes.UpstreamFailed)]
    public void Failure_line_has_a_null_response_and_the_code(string code)
    {
        var bytes = BatchResultLine.Failure("c3", code, "why");

        var root = JsonDocument.Parse(bytes).RootElement;
        Assert.Equal(["id", "custom_id", "response", "error"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Null, root.GetProperty("response").ValueKind);
        Assert.Equal(code, root.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("why", root.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public void Writers_refuse_a_status_that_contradicts_the_line_kind()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BatchResultLine.Success("c", 500, "r", "{}"u8));
        Assert.Throws<ArgumentOutOfRangeException>(() => BatchResultLine.ErrorResponse("c", 200, "r", "{}"u8));
    }

    [Fact]
    public void Readers_find_custom_id_and_success_in_written_lines()
    {
        Assert.True(BatchResultLine.TryRead(BatchResultLine.Success("s", 200, "r", ChatBody), out var id, out var ok));
        Assert.Equal("s", id);
        Assert.True(ok);
        Assert.True(BatchResultLine.TryReadCustomId(BatchResultLine.Failure("f", BatchResultCodes.BatchExpired, "m"), out id));
        Assert.Equal("f", id);
        Assert.False(BatchResultLine.IsSuccess(BatchResultLine.Failure("f", BatchResultCodes.BatchExpired, "m")));
        Assert.True(BatchResultLine.IsSuccess(BatchResultLine.Success("s", 201, "r", "{}"u8)));
    }

    [Fact]
    public void A_non_2xx_response_with_a_null_error_is_not_a_success()
    {
        var line = """{"id":"x","custom_id":"c","response":{"status_code":400,"request_id":"r","body":{}},"error":null}"""u8;

        Assert.False(BatchResultLine.IsSuccess(line));
    }

    [Theory]
    [InlineData("")]
    [InlineData("{bad")]
    [InlineData("[]")]
    [InlineData("""{"id":"x","response":null}""")]
    public void Readers_refuse_what_is_not_a_result_line(string line)
    {
        Assert.False(BatchResultLine.TryReadCustomId(Encoding.UTF8.GetBytes(line), out _));
        Assert.Throws<FormatException>(() => BatchResultLine.IsSuccess(Encoding.UTF8.GetBytes(line)));
    }
}
