namespace Atoll.Core.Batch;

/// <summary>
/// What <see cref="RequestLineParser"/> found on a line. Fields are null when missing or not strings;
/// the body is the byte range [<see cref="BodyStart"/>, <see cref="BodyStart"/> + <see cref="BodyLength"/>) of the line.
/// </summary>
internal readonly record struct RequestLineFields(
    bool IsObject,
    string? CustomId,
    string? Method,
    string? Url,
    bool HasBody,
    bool BodyIsObject,
    string? Model,
    int BodyStart,
    int BodyLength);
