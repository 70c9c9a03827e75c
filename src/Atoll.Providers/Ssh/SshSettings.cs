using Atoll.Core;
using Atoll.Core.Bootstrap;
using Atoll.Core.Fleet;

namespace Atoll.Providers.Ssh;

/// <summary>
/// The <c>settings</c> of an <c>ssh</c> provider: <c>stateDir</c> (where the claim marker lives, default
/// <c>/var/lib/atoll</c>), <c>bootstrapCommand</c> (run instead of <c>bash $ATOLL_BOOTSTRAP_SCRIPT</c>),
/// <c>teardownCommand</c> (run instead of removing the agent), <c>rebootCommand</c> (default: reboot),
/// <c>connectTimeout</c> (10s), <c>connectAttempts</c> (3), <c>retryDelay</c> (1s, doubled per attempt) and
/// <c>bootstrapTimeout</c> (30m).
/// </summary>
internal sealed record SshSettings(
    string StateDir,
    string? BootstrapCommand,
    string? TeardownCommand,
    string RebootCommand,
    TimeSpan ConnectTimeout,
    int ConnectAttempts,
    TimeSpan RetryDelay,
    TimeSpan BootstrapTimeout)
{
    public const string DefaultRebootCommand = "nohup sh -c 'sleep 1; reboot' >/dev/null 2>&1 </dev/null &";

    public string ClaimFile => StateDir.TrimEnd('/') + "/claim";

    public string ScriptFile => StateDir.TrimEnd('/') + "/bootstrap.sh";

    /// <summary>Reads the settings; bad values fail with a message naming the key and the accepted form.</summary>
    public static SshSettings From(string provider, IReadOnlyDictionary<string, string>? settings)
    {
        string? Get(string key) => settings is not null && settings.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
        TimeSpan Duration(string key, TimeSpan fallback)
        {
            var text = Get(key);
            if (text is null)
            {
                return fallback;
            }
            return Durations.TryParse(text, out var value) && value > TimeSpan.Zero
                ? value
                : throw Invalid(provider, key, text, "a duration such as 10s, 5m or 1h");
        }
        var stateDir = Get("stateDir") ?? BootstrapPaths.StateDir;
        if (!stateDir.StartsWith('/') || stateDir.TrimEnd('/').Length == 0)
        {
            throw Invalid(provider, "stateDir", stateDir, "an absolute directory other than /");
        }
        var attemptsText = Get("connectAttempts");
        var attempts = 3;
        if (attemptsText is not null && (!int.TryParse(attemptsText, out attempts) || attempts is < 1 or > 10))
        {
            throw Invalid(provider, "connectAttempts", attemptsText, "a whole number from 1 to 10");
        }
        return new SshSettings(
            stateDir,
            Get("bootstrapCommand"),
            Get("teardownCommand"),
            Get("rebootCommand") ?? DefaultRebootCommand,
            Duration("connectTimeout", TimeSpan.FromSeconds(10)),
            attempts,
            Duration("retryDelay", TimeSpan.FromSeconds(1)),
            Duration("bootstrapTimeout", TimeSpan.FromMinutes(30)));
    }

    private static ProviderException Invalid(string provider, string key, string value, string expected) =>
        new(ProviderErrorReason.InvalidRequest, $"provider {provider}: settings.{key} '{value}' is invalid: expected {expected}");
}
