namespace Atoll.Storage.State;

/// <summary>An uploaded file (Files API); its bytes live in the object store under <see cref="ObjectKey"/>.</summary>
public sealed record FileRecord(string Id, string Filename, string Purpose, long Bytes, string ObjectKey, DateTimeOffset CreatedAt);
