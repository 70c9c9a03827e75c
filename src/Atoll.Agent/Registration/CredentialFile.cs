using System.Text.Json;

namespace Atoll.Agent.Registration;

/// <summary>
/// The node credential on disk (<c>credential.json</c>, mode 0600), written atomically so a crash mid-write
/// never leaves a half file that would force a new join token.
/// </summary>
internal static class CredentialFile
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static string PathIn(string stateDir) => Path.Combine(stateDir, "credential.json");

    public static AgentCredential? Load(string stateDir)
    {
        var path = PathIn(stateDir);
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<AgentCredential>(File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is corrupt ({e.Message}); delete it and start again with a new --join-token", e);
        }
    }

    public static void Save(string stateDir, AgentCredential credential) =>
        WritePrivate(PathIn(stateDir), stream => JsonSerializer.Serialize(stream, credential, Json));

    /// <summary>Writes a file only its owner can read (0600), atomically: a crash leaves the old file or the new one.</summary>
    internal static void WritePrivate(string path, Action<Stream> write)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(temp, options))
        {
            write(stream);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }
}
