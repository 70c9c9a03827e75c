namespace Atoll.Storage.Objects;

/// <summary>
/// Where batch inputs, results and files live: the local filesystem or an S3-compatible bucket. Keys are relative
/// paths of [A-Za-z0-9._/-] (see <see cref="ObjectKeys"/>); objects are written whole and never modified in place.
/// </summary>
public interface IObjectStore : IAsyncDisposable
{
    /// <summary>What and where this store is, safe to log: no secrets.</summary>
    string Description { get; }

    /// <summary>
    /// Writes <paramref name="content"/> (read to its end, never held whole in memory) as the object
    /// <paramref name="key"/>, replacing any previous one. Readers see the old object or the new one, never a part.
    /// </summary>
    Task PutAsync(string key, Stream content, CancellationToken ct);

    /// <summary>
    /// Streams <paramref name="length"/> bytes (all to the end when null; fewer when the object ends first) from
    /// <paramref name="offset"/>. An offset equal to the size gives an empty stream; past it,
    /// <see cref="ArgumentOutOfRangeException"/>.
    /// </summary>
    /// <exception cref="ObjectNotFoundException">There is no object <paramref name="key"/>.</exception>
    Task<Stream> OpenReadAsync(string key, long offset, long? length, CancellationToken ct);

    /// <summary>Size and last modification of the object, or null when it does not exist.</summary>
    Task<ObjectInfo?> StatAsync(string key, CancellationToken ct);

    /// <summary>Removes the object; false when there was none.</summary>
    Task<bool> DeleteAsync(string key, CancellationToken ct);

    /// <summary>Signed URL for an anonymous GET (the reader may send a Range header) valid for <paramref name="ttl"/>.</summary>
    Uri SignedGetUrl(string key, TimeSpan ttl);

    /// <summary>Signed URL for an anonymous PUT of the whole object valid for <paramref name="ttl"/>.</summary>
    Uri SignedPutUrl(string key, TimeSpan ttl);
}
