using Atoll.Core.Batch;

namespace Atoll.Core.Tests.Batch;

public sealed class BatchInputValidatorErrorTests
{
    public static TheoryData<string, string, string?> BadSecondLines => new()
    {
        { "{not json", BatchErrorCodes.InvalidJsonLine, null },
        { "[1,2]", BatchErrorCodes.InvalidJsonLine, null },
        { BatchFiles.Line("x") + " trailing", BatchErrorCodes.InvalidJsonLine, null },
        { """{"method":"POST","url":"/v1/chat/completions","body":{"model":"llama"}}""", BatchErrorCodes.MissingCustomId, "custom_id" },
        { """{"custom_id":"","method":"POST","url":"/v1/chat/completions","body":{"model":"llama"}}""", BatchErrorCodes.MissingCustomId, "custom_id" },
        { """{"custom_id":7,"method":"POST","url":"/v1/chat/completions","body":{"model":"llama"}}""", BatchErrorCodes.MissingCustomId, "custom_id" },
        { BatchFiles.Line("first"), BatchErrorCodes.DuplicateCustomId, "custom_id" },
        { BatchFiles.Line("x", method: "GET"), BatchErrorCodes.InvalidMethod, "method" },
        { BatchFiles.Line("x", url: BatchEndpoints.Embeddings), BatchErrorCodes.MismatchedEndpoint, "url" },
        { """{"custom_id":"x","method":"POST","url":"/v1/chat/completions"}""", BatchErrorCodes.MissingBody, "body" },
        { """{"custom_id":"x","method":"POST","url":"/v1/chat/completions","body":"text"}""", BatchErrorCodes.MissingBody, "body" },
        { """{"custom_id":"x","method":"POST","url":"/v1/chat/completions","body":{"messages":[]}}""", BatchErrorCodes.MissingModel, "body.model" },
        { BatchFiles.Line("x", model: "other"), BatchErrorCodes.MismatchedModel, "body.model" },
    };

    [Theory]
    [MemberData(nameof(BadSecondLines))]
    public async Task Each_bad_line_is_reported_with_its_line_number_code_and_param(string bad, string code, string? param)
    {
        var text = BatchFiles.Line("first") + "\n" + bad + "\n" + BatchFiles.Line("third") + "\n";

        var v = await BatchFiles.Validate(text);

        Assert.False(v.IsValid);
        var error = Assert.Single(v.Errors);
        Assert.Equal(code, error.Code);
        Assert.Equal(2, error.Line);
        Assert.Equal(param, error.Param);
        Assert.StartsWith("line 2 ", error.Message);
        Assert.Empty(v.Chunks);
    }

    [Fact]
    public async Task Duplicate_and_model_mismatch_messages_name_the_earlier_line()
    {
        var text = BatchFiles.Line("a") + "\n" + BatchFiles.Line("b") + "\n" + BatchFiles.Line("a", model: "gpt") + "\n";

        var v = await BatchFiles.Validate(text);

        Assert.Equal([BatchErrorCodes.DuplicateCustomId, BatchErrorCodes.MismatchedModel], v.Errors.Select(e => e.Code));
        Assert.All(v.Errors, e => Assert.Equal(3, e.Line));
        Assert.Contains("line 1", v.Errors[0].Message);
        Assert.Contains("\"gpt\"", v.Errors[1].Message);
        Assert.Contains("\"llama\"", v.Errors[1].Message);
        Assert.Equal("llama", v.Model);
    }

    [Fact]
    public async Task A_blank_line_between_requests_is_an_error_at_its_own_line()
    {
        var text = BatchFiles.Line("a") + "\n\n \n" + BatchFiles.Line("b") + "\n";

        var v = await BatchFiles.Validate(text);

        var error = Assert.Single(v.Errors);
        Assert.Equal(BatchErrorCodes.EmptyLine, error.Code);
        Assert.Equal(2, error.Line);
        Assert.Contains("lines 2-3", error.Message);
    }

    [Fact]
    public async Task Line_numbers_count_physical_lines_after_a_blank_line()
    {
        var text = BatchFiles.Line("a") + "\n\n{bad\n";

        var v = await BatchFiles.Validate(text);

        Assert.Equal([(BatchErrorCodes.EmptyLine, 2), (BatchErrorCodes.InvalidJsonLine, 3)], v.Errors.Select(e => (e.Code, e.Line ?? 0)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\n  \n")]
    public async Task A_file_without_request_lines_is_empty_file(string text)
    {
        var v = await BatchFiles.Validate(text);

        var error = Assert.Single(v.Errors);
        Assert.Equal(BatchErrorCodes.EmptyFile, error.Code);
        Assert.Null(error.Line);
    }

    [Fact]
    public async Task More_lines_than_the_limit_fail_at_the_first_line_over_it()
    {
        var v = await BatchFiles.Validate(BatchFiles.File(6), new BatchLimits { MaxLines = 5 });

        var error = Assert.Single(v.Errors);
        Assert.Equal(BatchErrorCodes.TooManyLines, error.Code);
        Assert.Equal(6, error.Line);
        Assert.Contains("5", error.Message);
        Assert.Equal(5, v.LineCount);
        Assert.Empty(v.Chunks);
    }

    [Fact]
    public async Task Exactly_the_line_limit_is_accepted()
    {
        var v = await BatchFiles.Validate(BatchFiles.File(5), new BatchLimits { MaxLines = 5 });

        Assert.True(v.IsValid);
    }

    [Fact]
    public async Task A_file_larger_than_max_bytes_fails_as_file_too_large()
    {
        var text = BatchFiles.File(50);

        var v = await BatchFiles.Validate(text, new BatchLimits { MaxBytes = text.Length / 2 });

        var error = Assert.Single(v.Errors);
        Assert.Equal(BatchErrorCodes.FileTooLarge, error.Code);
        Assert.True(v.Bytes <= text.Length);
    }

    [Fact]
    public async Task Errors_stop_at_max_errors_and_say_they_were_truncated()
    {
        var text = string.Concat(Enumerable.Range(1, 50).Select(i => "{bad\n"));

        var v = await BatchFiles.Validate(text, new BatchLimits { MaxErrors = 10 });

        Assert.Equal(10, v.Errors.Count);
        Assert.Equal(Enumerable.Range(1, 10), v.Errors.Select(e => e.Line ?? 0));
        Assert.True(v.ErrorsTruncated);
        Assert.False(v.IsValid);
    }

    [Fact]
    public async Task Fewer_errors_than_the_cap_are_not_truncated()
    {
        var v = await BatchFiles.Validate("{bad\n" + BatchFiles.Line("a") + "\n");

        Assert.Single(v.Errors);
        Assert.False(v.ErrorsTruncated);
        Assert.Equal(2, v.LineCount);
    }

    [Fact]
    public async Task An_unsupported_endpoint_fails_without_reading_the_file()
    {
        var stream = BatchFiles.Stream(BatchFiles.File(3));

        var v = await BatchInputValidator.ValidateAsync(stream, "/v1/responses", new BatchLimits(), CancellationToken.None);

        var error = Assert.Single(v.Errors);
        Assert.Equal(BatchErrorCodes.UnsupportedEndpoint, error.Code);
        Assert.Equal("endpoint", error.Param);
        Assert.Contains(BatchEndpoints.ChatCompletions, error.Message);
        Assert.Equal(0, stream.Position);
    }

    [Fact]
    public async Task Invalid_json_message_points_at_the_byte()
    {
        var v = await BatchFiles.Validate("{\"custom_id\": x}\n");

        var error = Assert.Single(v.Errors);
        Assert.Contains("at byte 15", error.Message);
        Assert.DoesNotContain("LineNumber", error.Message);
    }

    [Fact]
    public async Task Invalid_utf8_in_a_field_is_a_line_error_not_a_crash()
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(BatchFiles.Line("a#") + "\n");
        bytes[Array.IndexOf(bytes, (byte)'#')] = 0xFF;

        var v = await BatchInputValidator.ValidateAsync(new MemoryStream(bytes), BatchEndpoints.ChatCompletions, new BatchLimits(), CancellationToken.None);

        var error = Assert.Single(v.Errors);
        Assert.Equal(BatchErrorCodes.InvalidJsonLine, error.Code);
        Assert.Equal(1, error.Line);
    }

    [Fact]
    public async Task Cancellation_is_honoured()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            BatchInputValidator.ValidateAsync(BatchFiles.Stream(BatchFiles.File(3)), BatchEndpoints.ChatCompletions, new BatchLimits(), cts.Token));
    }
}
