using System.Text;
using Atoll.Core.Bootstrap;
using Atoll.Core.Fleet;
using Atoll.Testing.Ssh;

namespace Atoll.Providers.Tests.Ssh;

public sealed class SshCloudProviderTests
{
    [SshdFact]
    public async Task Create_runs_the_bootstrap_script_on_the_host_and_claims_it()
    {
        await using var sshd = await SshdServer.StartAsync();
        var provider = SshTestHosts.Provider(sshd);
        var offer = Assert.Single(await provider.GetOffersAsync(default));
        Assert.True(offer.Available);
        Assert.Equal(("ssh", $"ssh-127-0-0-1-{sshd.Port}", "lab", "on-demand", "H100", 8, 12.5m), (offer.ProviderType, offer.InstanceType, offer.Region, offer.CapacityType, offer.GpuModel, offer.GpuCount, offer.PricePerHour));

        var ran = Path.Combine(sshd.Directory, "ran");
        var script = $"#!/usr/bin/env bash\nset -euo pipefail\nprintf '%s %s' \"$(id -un)\" \"$0\" > {ShellQuote.Word(ran)}\n";
        var created = await provider.CreateAsync(SshTestHosts.Launch(offer, "a", script), default);

        Assert.Equal(($"127.0.0.1:{sshd.Port}", "atoll-c1-a", InstanceState.Running), (created.Id, created.Name, created.State));
        Assert.Equal($"root {SshTestHosts.StateDir(sshd)}/bootstrap.sh", File.ReadAllText(ran));
        Assert.Equal("atoll-c1-a\n", File.ReadAllText(SshTestHosts.ClaimFile(sshd)));
        Assert.False(Assert.Single(await provider.GetOffersAsync(default)).Available);

        // A fresh adapter (a restarted server) finds the instance from the marker alone.
        var restarted = SshTestHosts.Provider(sshd);
        var got = await restarted.GetAsync(created.Id, default);
        Assert.Equal(("atoll-c1-a", InstanceState.Running), (got!.Name, got.State));
        Assert.Equal(["atoll-c1-a"], (await restarted.ListAsync(default)).Select(i => i.Name));
    }

    [SshdFact]
    public async Task A_bootstrap_command_runs_instead_and_the_script_arrives_byte_for_byte()
    {
        await using var sshd = await SshdServer.StartAsync();
        var delivered = Path.Combine(sshd.Directory, "delivered.sh");
        var provider = SshTestHosts.Provider(sshd, new() { ["bootstrapCommand"] = $"cp \"$ATOLL_BOOTSTRAP_SCRIPT\" {ShellQuote.Word(delivered)}" });
        var offer = Assert.Single(await provider.GetOffersAsync(default));
        // The real bootstrap (never run here: it would install an agent on this machine), with hostile values and no final newline.
        var script = BootstrapRenderer.Render(new BootstrapSettings(
            "https://atoll.example.com", "atoll_jt_secret", "atoll-c1-b", "byo", "ssh", "lab", offer.InstanceType, "on-demand", "H100", 8, "gpu",
            new Dictionary<string, string> { ["x"] = "it's \"q\" $HOME `id` \\ é✓" }, [], "https://atoll.example.com/downloads/atoll", true,
            ["echo 'done'"])).Script + "tail without newline ✓ \r\n\t$";

        await provider.CreateAsync(SshTestHosts.Launch(offer, "b", script), default);

        Assert.Equal(Encoding.UTF8.GetBytes(script), File.ReadAllBytes(delivered));
        Assert.Equal("atoll-c1-b\n", File.ReadAllText(SshTestHosts.ClaimFile(sshd)));
        Assert.Equal(Convert.ToInt32("700", 8), (int)File.GetUnixFileMode(Path.Combine(SshTestHosts.StateDir(sshd), "bootstrap.sh")));
    }

    [SshdFact]
    public async Task Delete_removes_the_agent_and_hands_the_host_back()
    {
        await using var sshd = await SshdServer.StartAsync();
        var provider = SshTestHosts.Provider(sshd);
        var offer = Assert.Single(await provider.GetOffersAsync(default));
        var created = await provider.CreateAsync(SshTestHosts.Launch(offer, "a", "true"), default);

        await provider.DeleteAsync(created.Id, default);

        Assert.Equal("torn-down\n", File.ReadAllText(Path.Combine(sshd.Directory, "teardown")));
        Assert.False(File.Exists(SshTestHosts.ClaimFile(sshd)));
        Assert.False(File.Exists(Path.Combine(SshTestHosts.StateDir(sshd), "bootstrap.sh")));
        Assert.True(Assert.Single(await provider.GetOffersAsync(default)).Available);
        Assert.Null(await provider.GetAsync(created.Id, default));
        Assert.Empty(await provider.ListAsync(default));
        await provider.DeleteAsync(created.Id, default);
        Assert.Equal("torn-down\n", File.ReadAllText(Path.Combine(sshd.Directory, "teardown")));
    }
}
