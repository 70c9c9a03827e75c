namespace Atoll.Storage.Objects;

/// <summary>What <see cref="FileObjectStore.CheckSignedUrl"/> found in a signed URL's query.</summary>
public enum SignedUrlStatus
{
    /// <summary>Signed by this store for that method and key, and not yet expired.</summary>
    Valid,

    /// <summary>Signed by this store for that method and key, but past its expiry.</summary>
    Expired,

    /// <summary>Not signed by this store, or signed for another method, key or expiry.</summary>
    InvalidSignature,
}
