namespace Atoll.Core.Batch;

/// <summary>
/// Validates a batch input file (JSONL) in one streaming pass and splits it into the queue's chunks.
/// </summary>
/// <remarks>
/// Blank lines: OpenAI refuses empty lines, and so does this, with one exception: blank (whitespace-only) lines at
/// the very end of the file are ignored, since editors add them. A blank line followed by another request line is
/// an <see cref="BatchErrorCodes.EmptyLine"/> error. Line numbers count every physical line, blank ones included.
/// Lines may end in LF or CRLF; a UTF-8 BOM at the start of the file is ignored.
/// </remarks>
public static class BatchInputValidator
{
    public static async Task<BatchValidation> ValidateAsync(Stream input, string endpoint, BatchLimits limits, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(limits);
        limits.EnsureValid();
        var errors = new BatchErrorList(limits.MaxErrors);
        if (!BatchEndpoints.IsSupported(endpoint))
        {
            errors.Add(BatchErrorCodes.UnsupportedEndpoint, null,
                $"endpoint \"{endpoint}\" is not supported; use one of {string.Join(", ", BatchEndpoints.All)}", "endpoint");
            return new BatchValidation { Errors = errors.Items };
        }

        var rules = new InputLineRules(endpoint, errors);
        var chunks = new ChunkBuilder(limits.ChunkLines);
        var scanner = new JsonlLineScanner(input, limits.MaxBytes);
        int lines = 0, firstBlank = 0, lastBlank = 0;
        var truncated = false;
        await foreach (var line in scanner.ReadAsync(ct).ConfigureAwait(false))
        {
            if (line.IsBlank)
            {
                firstBlank = firstBlank == 0 ? line.Number : firstBlank;
                lastBlank = line.Number;
                continue;
            }
            if (firstBlank != 0)
            {
                errors.Add(BatchErrorCodes.EmptyLine, firstBlank, BlankMessage(firstBlank, lastBlank), null);
                firstBlank = 0;
            }
            if (++lines > limits.MaxLines)
            {
                lines--;
                errors.Add(BatchErrorCodes.TooManyLines, line.Number,
                    $"the file has more than {limits.MaxLines} request lines; the limit is {limits.MaxLines}", null);
                break;
            }
            rules.Check(line.Content.Span, line.Number);
            chunks.Add(line);
            if (errors.IsFull)
            {
                truncated = true;
                break;
            }
        }
        if (scanner.ExceededMaxBytes)
        {
            errors.Add(BatchErrorCodes.FileTooLarge, null, $"the file is larger than the limit of {limits.MaxBytes} bytes", null);
        }
        else if (lines == 0)
        {
            errors.Add(BatchErrorCodes.EmptyFile, null, "the file has no request lines; each line must be one JSON request object", null);
        }
        chunks.Flush();
        return new BatchValidation
        {
            Model = rules.Model,
            LineCount = lines,
            Bytes = scanner.BytesRead,
            Errors = errors.Items,
            ErrorsTruncated = truncated,
            Chunks = errors.Items.Count == 0 ? chunks.Chunks : [],
        };
    }

    private static string BlankMessage(int first, int last) =>
        first == last
            ? $"line {first} is empty; blank lines are allowed only at the end of the file"
            : $"lines {first}-{last} are empty; blank lines are allowed only at the end of the file";
}
