namespace Atoll.Storage.State;

/// <summary>
/// A key for the OpenAI-compatible gateway: only its hash is kept. Null limits mean unlimited.
/// <see cref="Prefix"/> is the first characters of the key, safe to show so that people can tell keys apart.
/// <see cref="MaxConcurrent"/> bounds the key's requests in flight at once.
/// </summary>
public sealed record ApiKeyRecord(
    string Id,
    string Name,
    string KeyHash,
    string Prefix,
    int? RequestsPerMinute,
    int? TokensPerMinute,
    DateTimeOffset CreatedAt,
    int? MaxConcurrent = null);
