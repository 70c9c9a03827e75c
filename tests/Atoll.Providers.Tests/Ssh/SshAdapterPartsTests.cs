using System.Diagnostics;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Atoll.Providers.Ssh;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atoll.Providers.Tests.Ssh;

public sealed class SshAdapterPartsTests
{
    private static readonly SshSettings Defaults = SshSettings.From("byo", null);

    [Theory]
    [InlineData("8xH100", "H100", 8, 80)]
    [InlineData("2x NVIDIA RTX 4090", "RTX4090", 2, 24)]
    [InlineData("H100", "H100", 1, 80)]
    [InlineData("4xA100-40GB", "A100", 4, 40)]
    [InlineData("1xMI300X", "MI300X", 1, 0)]
    public void Gpu_strings_become_model_count_and_memory(string gpu, string model, int count, int memory) =>
        Assert.Equal((model, count, memory), SshHost.ParseGpu(gpu));

    [Fact]
    public void A_cpu_host_has_no_gpu() => Assert.Equal((null, 0, 0), SshHost.ParseGpu(""));

    [Theory]
    [InlineData("10.0.0.5", 22, "ssh-10-0-0-5")]
    [InlineData("GPU-Box.lab", 2222, "ssh-gpu-box-lab-2222")]
    public void Instance_types_are_named_after_the_address(string address, int port, string expected) =>
        Assert.Equal(expected, SshHost.InstanceTypeOf(new SshHostSpec(address, port)));

    [Theory]
    [InlineData("connectTimeout", "soon")]
    [InlineData("connectAttempts", "0")]
    [InlineData("stateDir", "relative/dir")]
    [InlineData("stateDir", "/")]
    public void Bad_settings_fail_naming_the_key(string key, string value)
    {
        var e = Assert.Throws<ProviderException>(() => SshSettings.From("byo", new Dictionary<string, string> { [key] = value }));
        Assert.Equal(ProviderErrorReason.InvalidRequest, e.Reason);
        Assert.Contains($"settings.{key} '{value}'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_keep_the_claim_in_var_lib_atoll_and_reboot_for_real()
    {
        Assert.Equal("/var/lib/atoll/claim", Defaults.ClaimFile);
        Assert.Contains("reboot", Defaults.RebootCommand, StringComparison.Ordinal);
        Assert.Equal((TimeSpan.FromSeconds(10), 3), (Defaults.ConnectTimeout, Defaults.ConnectAttempts));
    }

    [Fact]
    public async Task A_missing_private_key_is_unauthorized_and_names_the_credential()
    {
        using var http = new HttpClient();
        var spec = new ProviderSpec(ProviderTypes.Ssh, Hosts: [new SshHostSpec("127.0.0.1", 1)]);
        var provider = new SshCloudProvider(new ProviderContext("byo", spec, new Dictionary<string, string>(), "c1", http, TimeProvider.System, NullLoggerFactory.Instance));

        var e = await Assert.ThrowsAsync<ProviderException>(() => provider.GetOffersAsync(default));

        Assert.Equal(ProviderErrorReason.Unauthorized, e.Reason);
        Assert.Contains("credentials.privateKey", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Non_root_users_run_the_snippets_under_sudo_without_a_prompt()
    {
        Assert.StartsWith("sh -c ", SshScripts.AsRoot("root", "true"), StringComparison.Ordinal);
        Assert.StartsWith("sudo -n sh -c ", SshScripts.AsRoot("ubuntu", "true"), StringComparison.Ordinal);
    }

    [Fact]
    public void The_remote_snippets_pass_shellcheck()
    {
        const string shellcheck = "/usr/bin/shellcheck";
        if (!File.Exists(shellcheck) && !Environment.IsPrivilegedProcess)
        {
            Console.WriteLine("skipped: shellcheck is not installed and the tests do not run as root");
            return;
        }
        var odd = SshSettings.From("byo", new Dictionary<string, string> { ["stateDir"] = "/tmp/it's a $dir" });
        // With the odd directory, shellcheck flags the quote and '$dir' that are literal on purpose.
        string[] none = [], literal = ["--exclude=SC2016,SC2089,SC2090"];
        foreach (var (name, script, excluded) in new (string, string, string[])[]
        {
            ("claim", SshScripts.Claim(Defaults, "atoll-c1-a"), none), ("read", SshScripts.ReadClaim(Defaults), none),
            ("run", SshScripts.DeliverAndRun(Defaults), none), ("teardown", SshScripts.TeardownAndRelease(Defaults), none),
            ("reboot", Defaults.RebootCommand, none),
            ("claim-odd", SshScripts.Claim(odd, "atoll-c1-a"), literal), ("read-odd", SshScripts.ReadClaim(odd), literal),
            ("run-odd", SshScripts.DeliverAndRun(odd), literal), ("teardown-odd", SshScripts.TeardownAndRelease(odd), literal),
        })
        {
            var file = Path.GetTempFileName();
            try
            {
                File.WriteAllText(file, script + "\n");
                var start = new ProcessStartInfo(shellcheck) { RedirectStandardOutput = true, RedirectStandardError = true };
                foreach (var argument in (string[])["--shell=sh", "--severity=style", .. excluded, file])
                {
                    start.ArgumentList.Add(argument);
                }
                using var process = Process.Start(start)!;
                var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
                process.WaitForExit();
                Assert.True(process.ExitCode == 0, $"{name}:\n{script}\n{output}");
            }
            finally
            {
                File.Delete(file);
            }
        }
    }
}
