namespace Atoll.Storage.Objects;

/// <summary>What <see cref="IObjectStore.StatAsync"/> knows about one object.</summary>
public sealed record ObjectInfo(string Key, long Size, DateTimeOffset LastModified);
