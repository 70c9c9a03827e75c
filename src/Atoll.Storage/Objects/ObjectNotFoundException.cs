namespace Atoll.Storage.Objects;

/// <summary>The object store has no object under the key that was read.</summary>
public sealed class ObjectNotFoundException : Exception
{
    public ObjectNotFoundException(string key)
        : base($"object '{key}' does not exist")
    {
        Key = key;
    }

    public ObjectNotFoundException(string key, Exception inner)
        : base($"object '{key}' does not exist", inner)
    {
        Key = key;
    }

    /// <summary>The key that was asked for.</summary>
    public string Key { get; } = "";
}
