using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Atoll.Testing.Processes;
using Atoll.Testing.Ssh;

namespace Atoll.Providers.Tests.Ssh;

/// <summary>How the SSH adapter fails: typed reasons a reconciler can act on, and a host that is never left claimed by mistake.</summary>
public sealed class SshProviderFailureTests
{
    [SshdFact]
    public async Task A_second_create_on_a_claimed_host_is_insufficient_capacity()
    {
        await using var sshd = await SshdServer.StartAsync();
        var provider = SshTestHosts.Provider(sshd);
        var offer = Assert.Single(await provider.GetOffersAsync(default));
        await provider.CreateAsync(SshTestHosts.Launch(offer, "first", "true"), default);

        var e = await Assert.ThrowsAsync<ProviderException>(() => provider.CreateAsync(SshTestHosts.Launch(offer, "second", "true"), default));

        Assert.Equal(ProviderErrorReason.InsufficientCapacity, e.Reason);
        Assert.Contains("claimed by atoll-c1-first", e.Message, StringComparison.Ordinal);
        Assert.Equal("atoll-c1-first\n", File.ReadAllText(SshTestHosts.ClaimFile(sshd)));
    }

    [SshdFact]
    public async Task A_failing_bootstrap_hands_the_host_back_and_says_why()
    {
        await using var sshd = await SshdServer.StartAsync();
        var provider = SshTestHosts.Provider(sshd);
        var offer = Assert.Single(await provider.GetOffersAsync(default));

        var e = await Assert.ThrowsAsync<ProviderException>(() =>
            provider.CreateAsync(SshTestHosts.Launch(offer, "a", "echo 'no systemd here' >&2\nexit 7\n"), default));

        Assert.Equal(ProviderErrorReason.InsufficientCapacity, e.Reason);
        Assert.Contains("exit 7", e.Message, StringComparison.Ordinal);
        Assert.Contains("no systemd here", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(SshTestHosts.ClaimFile(sshd)));
        Assert.Equal("torn-down\n", File.ReadAllText(Path.Combine(sshd.Directory, "teardown")));
        Assert.True(Assert.Single(await provider.GetOffersAsync(default)).Available);
    }

    [SshdFact]
    public async Task A_refused_key_is_unauthorized()
    {
        await using var sshd = await SshdServer.StartAsync();
        var provider = SshTestHosts.Provider(sshd, hostKey: new SecretRef(File: await sshd.CreateUnauthorizedKeyAsync()));
        var offer = new Offer("byo", "ssh", $"ssh-127-0-0-1-{sshd.Port}", "lab", "on-demand", "H100", 8, 80, 64, 512, 12.5m, 12.5m, true);

        var offers = await Assert.ThrowsAsync<ProviderException>(() => provider.GetOffersAsync(default));
        var create = await Assert.ThrowsAsync<ProviderException>(() => provider.CreateAsync(SshTestHosts.Launch(offer, "a", "true"), default));
        var get = await Assert.ThrowsAsync<ProviderException>(() => provider.GetAsync($"127.0.0.1:{sshd.Port}", default));

        Assert.All([offers, create, get], e => Assert.Equal(ProviderErrorReason.Unauthorized, e.Reason));
        Assert.Contains("user root was refused", create.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(SshTestHosts.ClaimFile(sshd)));
    }

    [SshdFact]
    public async Task A_host_with_nothing_listening_is_transient_and_unknown_rather_than_gone()
    {
        await using var sshd = await SshdServer.StartAsync();
        var port = FreePorts.Next();
        var provider = SshTestHosts.Provider(sshd, port: port);
        var offer = Assert.Single(await provider.GetOffersAsync(default));
        Assert.False(offer.Available);

        var e = await Assert.ThrowsAsync<ProviderException>(() => provider.CreateAsync(SshTestHosts.Launch(offer, "a", "true"), default));
        var got = await provider.GetAsync($"127.0.0.1:{port}", default);

        Assert.Equal(ProviderErrorReason.Transient, e.Reason);
        Assert.Contains("ConnectionRefused", e.Message, StringComparison.Ordinal);
        Assert.Equal(InstanceState.Unknown, got!.State);
        Assert.StartsWith("unreachable", got.RawStatus, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ProviderException>(() => provider.DeleteAsync($"127.0.0.1:{port}", default));
    }

    [SshdFact]
    public async Task Markers_of_other_clusters_are_listed_but_not_this_clusters_and_foreign_ones_are_ignored()
    {
        await using var sshd = await SshdServer.StartAsync();
        var provider = SshTestHosts.Provider(sshd);
        var id = $"127.0.0.1:{sshd.Port}";
        Directory.CreateDirectory(SshTestHosts.StateDir(sshd));

        File.WriteAllText(SshTestHosts.ClaimFile(sshd), "atoll-other-x\n");
        Assert.Equal(["atoll-other-x"], (await provider.ListAsync(default)).Select(i => i.Name));
        Assert.Null(await provider.GetAsync(id, default));
        await provider.DeleteAsync(id, default);
        Assert.True(File.Exists(SshTestHosts.ClaimFile(sshd)));

        File.WriteAllText(SshTestHosts.ClaimFile(sshd), "kept-by-hand\n");
        Assert.Empty(await provider.ListAsync(default));
        Assert.False(Assert.Single(await provider.GetOffersAsync(default)).Available);
        Assert.Null(await provider.GetAsync("10.9.9.9:22", default));
    }

    [SshdFact]
    public async Task Reboot_runs_the_reboot_command_on_a_claimed_host_only()
    {
        await using var sshd = await SshdServer.StartAsync();
        var provider = SshTestHosts.Provider(sshd);
        var id = $"127.0.0.1:{sshd.Port}";
        Assert.True(provider.CanReboot);
        Assert.Equal(ProviderErrorReason.NotFound, (await Assert.ThrowsAsync<ProviderException>(() => provider.RebootAsync(id, default))).Reason);

        var offer = Assert.Single(await provider.GetOffersAsync(default));
        await provider.CreateAsync(SshTestHosts.Launch(offer, "a", "true"), default);
        await provider.RebootAsync(id, default);

        Assert.Equal("rebooted\n", File.ReadAllText(Path.Combine(sshd.Directory, "reboot")));
        Assert.Equal(ProviderErrorReason.NotFound, (await Assert.ThrowsAsync<ProviderException>(() => provider.RebootAsync("10.9.9.9:22", default))).Reason);
    }
}
