namespace Atoll.Storage.Objects;

/// <summary>
/// Object keys: relative paths of [A-Za-z0-9._/-], at most 1024 characters, no empty, "." or ".." segment. The
/// same rule on every store, so a key that works on the filesystem works on S3 and needs no escaping in a URL.
/// </summary>
public static class ObjectKeys
{
    public const int MaxLength = 1024;

    /// <summary>Throws <see cref="ArgumentException"/> naming the rule when <paramref name="key"/> breaks it.</summary>
    public static void Validate(string key, string paramName = "key")
    {
        if (!IsValid(key, out var why))
        {
            throw new ArgumentException(
                $"invalid object key '{key}': {why} (keys are relative paths of A-Z a-z 0-9 . _ / -, without empty, '.' or '..' segments)",
                paramName);
        }
    }

    public static bool IsValid(string key) => IsValid(key, out _);

    private static bool IsValid(string key, out string why)
    {
        if (string.IsNullOrEmpty(key))
        {
            why = "empty";
            return false;
        }
        if (key.Length > MaxLength)
        {
            why = $"longer than {MaxLength} characters";
            return false;
        }
        foreach (var c in key)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '/' or '-'))
            {
                why = $"character '{c}' is not allowed";
                return false;
            }
        }
        foreach (var segment in key.Split('/'))
        {
            if (segment.Length == 0 || segment is "." or "..")
            {
                why = key.StartsWith('/') ? "absolute paths are not allowed" : $"segment '{segment}' is not allowed";
                return false;
            }
        }
        why = "";
        return true;
    }
}
