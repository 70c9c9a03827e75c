using Atoll.Core.Bootstrap;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Atoll.Providers.Ssh;
using Atoll.Testing.Ssh;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atoll.Providers.Tests.Ssh;

/// <summary>Builds <see cref="SshCloudProvider"/>s pointed at a test <see cref="SshdServer"/>.</summary>
internal static class SshTestHosts
{
    public const string ClusterId = "c1";

    private static readonly HttpClient Http = new();

    /// <summary>The claim marker's directory: a name that breaks unquoted shell use, to prove the quoting end to end.</summary>
    public static string StateDir(SshdServer sshd) => Path.Combine(sshd.Directory, "state dir 'q' $x `y`");

    public static string ClaimFile(SshdServer sshd) => Path.Combine(StateDir(sshd), "claim");

    /// <summary>
    /// A provider with one host, the sshd. The teardown and reboot commands only leave a file behind: the real ones
    /// would remove this machine's agent files and reboot it.
    /// </summary>
    public static SshCloudProvider Provider(
        SshdServer sshd,
        Dictionary<string, string>? settings = null,
        SecretRef? hostKey = null,
        int? port = null,
        string? gpu = "8xH100")
    {
        var all = new Dictionary<string, string>
        {
            ["stateDir"] = StateDir(sshd),
            ["teardownCommand"] = $"echo torn-down >> {ShellQuote.Word(Path.Combine(sshd.Directory, "teardown"))}",
            ["rebootCommand"] = $"echo rebooted >> {ShellQuote.Word(Path.Combine(sshd.Directory, "reboot"))}",
            // Generous: the test machine can be busy; a refused connection fails at once anyway.
            ["connectTimeout"] = "20s",
        };
        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }
        var spec = new ProviderSpec(
            ProviderTypes.Ssh,
            Hosts: [new SshHostSpec(sshd.Host, port ?? sshd.Port, PrivateKey: hostKey, Gpu: gpu, VCpus: 64, MemoryGiB: 512, Region: "lab", PricePerHour: 12.5m)],
            Settings: all);
        var secrets = new Dictionary<string, string> { ["privateKey"] = sshd.ClientPrivateKey };
        return new SshCloudProvider(new ProviderContext("byo", spec, secrets, ClusterId, Http, TimeProvider.System, NullLoggerFactory.Instance));
    }

    public static LaunchRequest Launch(Offer offer, string claim, string script) =>
        new(InstanceNames.For(ClusterId, claim), offer, new BootstrapBundle(script, "", [], [], [], []), new Dictionary<string, string>());
}
