using System.Security.Cryptography;
using System.Text;
using Atoll.Core.Fleet;

namespace Atoll.Agent.Registration;

/// <summary>
/// The agent's registration key (<c>registration.key</c>, mode 0600): a random secret written before the first
/// registration attempt and sent with every one. If the server committed a registration but its answer never
/// arrived (a dropped link, a crash), the retry with the same join token and key gets a fresh credential instead
/// of "join token has no uses left" or "name in use". It never leaves the node except inside that request.
/// </summary>
internal static class RegistrationKeyFile
{
    public static string PathIn(string stateDir) => Path.Combine(stateDir, "registration.key");

    /// <summary>The saved key, or a new one saved first.</summary>
    public static string LoadOrCreate(string stateDir)
    {
        var path = PathIn(stateDir);
        if (File.Exists(path))
        {
            var saved = File.ReadAllText(path).Trim();
            if (saved.Length >= RegistrationValidator.MinRegistrationKeyLength)
            {
                return saved;
            }
        }
        var key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        CredentialFile.WritePrivate(path, stream => stream.Write(Encoding.ASCII.GetBytes(key)));
        return key;
    }
}
