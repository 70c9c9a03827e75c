namespace Atoll.Core.Batch;

/// <summary>Codes of <see cref="BatchLineError"/> produced by input validation.</summary>
public static class BatchErrorCodes
{
    public const string InvalidJsonLine = "invalid_json_line";
    public const string EmptyLine = "empty_line";
    public const string MissingCustomId = "missing_custom_id";
    public const string DuplicateCustomId = "duplicate_custom_id";
    public const string InvalidMethod = "invalid_method";
    public const string MismatchedEndpoint = "mismatched_endpoint";
    public const string MissingBody = "missing_body";
    public const string MissingModel = "missing_model";
    public const string MismatchedModel = "mismatched_model";
    public const string TooManyLines = "too_many_lines";
    public const string FileTooLarge = "file_too_large";
    public const string EmptyFile = "empty_file";
    public const string UnsupportedEndpoint = "unsupported_endpoint";
}
