using Atoll.Core.Security;
using Atoll.Storage.State;
using Microsoft.Extensions.Logging;

namespace Atoll.Server.Auth;

/// <summary>
/// On the first start of a store, creates the admin token: its hash goes to the store, its plaintext to
/// <c>admin.token</c> (mode 0600) once. It is never logged and cannot be read back from the store.
/// </summary>
internal static class AdminTokenBootstrap
{
    public static async Task EnsureAsync(IStateStore store, string tokenPath, TimeProvider time, ILogger logger, CancellationToken ct)
    {
        if (await store.HasAdminTokenAsync(ct).ConfigureAwait(false))
        {
            if (!File.Exists(tokenPath))
            {
                logger.LogWarning("An admin token exists in {Store} but {Path} is missing; its plaintext was written only once and cannot be recovered from the store",
                    store.Description, tokenPath);
            }
            return;
        }
        var token = Tokens.New(Tokens.AdminPrefix);
        Directory.CreateDirectory(Path.GetDirectoryName(tokenPath)!);
        // Create the file with 0600 from the first byte so the secret is never readable by others.
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        await using (var stream = new FileStream(tokenPath, options))
        await using (var writer = new StreamWriter(stream))
        {
            await writer.WriteLineAsync(token).ConfigureAwait(false);
        }
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(tokenPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        await store.AddAdminTokenAsync(Tokens.NewId(), Tokens.Hash(token), time.GetUtcNow(), ct).ConfigureAwait(false);
        logger.LogInformation("Created the admin token; it was written once to {Path} (mode 0600)", tokenPath);
    }
}
