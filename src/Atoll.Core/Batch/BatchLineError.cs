using System.Text.Json.Serialization;

namespace Atoll.Core.Batch;

/// <summary>One entry of a batch's <c>errors.data</c>: why a line (or the whole file, when <see cref="Line"/> is null) was refused.</summary>
public sealed record BatchLineError(
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("line")] int? Line,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("param")] string? Param);
