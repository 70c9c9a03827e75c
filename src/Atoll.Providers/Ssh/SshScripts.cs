using Atoll.Core.Bootstrap;

namespace Atoll.Providers.Ssh;

/// <summary>
/// The shell snippets run on a host (by <c>sh</c>, under <c>sudo -n</c> for other users than root). Every value in
/// them is quoted with <see cref="ShellQuote.Word"/>.
/// </summary>
internal static class SshScripts
{
    /// <summary>Exit code of <see cref="Claim"/> when another instance holds the host (its name on stdout).</summary>
    public const int ClaimedByOther = 3;

    /// <summary>Exit code of <see cref="ReadClaim"/> when the host is not claimed.</summary>
    public const int NoClaim = 4;

    /// <summary>Claims the host for <paramref name="instance"/> unless another holds it; noclobber makes it atomic.</summary>
    public static string Claim(SshSettings s, string instance) => $"""
        set -eu
        mkdir -p {Q(s.StateDir)}
        chmod 0700 {Q(s.StateDir)}
        if (set -C; printf '%s\n' {Q(instance)} > {Q(s.ClaimFile)}) 2>/dev/null; then exit 0; fi
        current=$(cat {Q(s.ClaimFile)} 2>/dev/null || true)
        if [ "$current" = {Q(instance)} ]; then exit 0; fi
        printf '%s' "$current"
        exit {ClaimedByOther}
        """;

    /// <summary>Prints the claim marker's instance name, or exits <see cref="NoClaim"/>.</summary>
    public static string ReadClaim(SshSettings s) => $"""
        if [ -f {Q(s.ClaimFile)} ]; then cat {Q(s.ClaimFile)}; else exit {NoClaim}; fi
        """;

    /// <summary>
    /// Writes standard input to the script file (mode 0700, replaced whole), then runs it with
    /// <c>ATOLL_BOOTSTRAP_SCRIPT</c> set: by bash, or by the <c>bootstrapCommand</c> setting. One command, so one
    /// round trip; the script's exit code is the command's.
    /// </summary>
    public static string DeliverAndRun(SshSettings s) => $"""
        set -eu
        mkdir -p {Q(s.StateDir)}
        (umask 077 && cat > {Q(s.ScriptFile + ".tmp")})
        chmod 0700 {Q(s.ScriptFile + ".tmp")}
        mv -f {Q(s.ScriptFile + ".tmp")} {Q(s.ScriptFile)}
        cd /
        ATOLL_BOOTSTRAP_SCRIPT={Q(s.ScriptFile)}
        export ATOLL_BOOTSTRAP_SCRIPT
        set +eu
        (
        {s.BootstrapCommand ?? "bash \"$ATOLL_BOOTSTRAP_SCRIPT\" </dev/null"}
        )
        """;

    /// <summary>
    /// Stops and removes what the bootstrap installed (or runs the <c>teardownCommand</c> setting), then hands the
    /// host back by removing the claim marker and the delivered script; the marker stays when the teardown fails.
    /// </summary>
    public static string TeardownAndRelease(SshSettings s) => $"""
        (
        {s.TeardownCommand ?? DefaultTeardown}
        ) || exit $?
        rm -f {Q(s.ClaimFile)} {Q(s.ScriptFile)} {Q(s.ScriptFile + ".tmp")}
        """;

    private static readonly string DefaultTeardown = $"""
        set -u
        if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
          systemctl disable --now {BootstrapPaths.UnitName} >/dev/null 2>&1 || true
          rm -f {BootstrapPaths.UnitFile}
          systemctl daemon-reload
        else
          rm -f {BootstrapPaths.UnitFile}
        fi
        rm -f {BootstrapPaths.EnvFile} {BootstrapPaths.Binary}
        rm -rf {BootstrapPaths.StateDir}
        """;

    /// <summary>Wraps <paramref name="script"/> for the login user: <c>sh -c</c>, under <c>sudo -n</c> unless root.</summary>
    public static string AsRoot(string user, string script) =>
        (user == "root" ? "sh -c " : "sudo -n sh -c ") + Q(script);

    private static string Q(string value) => ShellQuote.Word(value);
}
