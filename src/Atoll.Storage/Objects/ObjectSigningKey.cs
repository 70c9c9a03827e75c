using System.Security.Cryptography;

namespace Atoll.Storage.Objects;

/// <summary>
/// The filesystem store's HMAC key: 32 random bytes in <c>&lt;data&gt;/object-signing.key</c> (mode 0600), made
/// once, so signed URLs stay valid across restarts.
/// </summary>
internal static class ObjectSigningKey
{
    public const string FileName = "object-signing.key";
    public const int Length = 32;

    public static byte[] LoadOrCreate(string dataDir)
    {
        var path = Path.Combine(dataDir, FileName);
        if (!File.Exists(path))
        {
            Create(path);
        }
        var key = File.ReadAllBytes(path);
        if (key.Length != Length)
        {
            throw new InvalidOperationException(
                $"{path} holds {key.Length} bytes, not the {Length} of an object signing key: delete it to make a new one " +
                "(signed URLs given out before then stop working)");
        }
        return key;
    }

    // Written aside and moved without overwrite: two processes starting together end up with the same key.
    private static void Create(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        try
        {
            using (var file = new FileStream(temp, options))
            {
                file.Write(RandomNumberGenerator.GetBytes(Length));
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process made it first: use theirs.
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
