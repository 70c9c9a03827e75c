namespace Atoll.Storage.State;

/// <summary>Gateway API keys, stored hashed.</summary>
public interface IApiKeyStore
{
    /// <summary>Adds a key; throws <see cref="InvalidOperationException"/> when the name is taken.</summary>
    Task AddAsync(ApiKeyRecord key, CancellationToken ct);

    /// <summary>All keys, ordered by name.</summary>
    Task<IReadOnlyList<ApiKeyRecord>> ListAsync(CancellationToken ct);

    Task<ApiKeyRecord?> FindByHashAsync(string keyHash, CancellationToken ct);

    /// <summary>Deletes the key with that name or id; false when none matched.</summary>
    Task<bool> DeleteAsync(string nameOrId, CancellationToken ct);
}
