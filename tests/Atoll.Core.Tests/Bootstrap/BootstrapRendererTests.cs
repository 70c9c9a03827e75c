using Atoll.Core.Bootstrap;
using YamlDotNet.RepresentationModel;

namespace Atoll.Core.Tests.Bootstrap;

public sealed class BootstrapRendererTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Driver_pinning_is_rendered_only_when_asked(bool pin)
    {
        var script = BootstrapRenderer.Render(BootstrapSamples.Gpu(pin)).Script;
        Assert.Equal(pin, script.Contains("apt-mark hold", StringComparison.Ordinal));
        Assert.Equal(pin, script.Contains(BootstrapPaths.NvidiaBlacklist, StringComparison.Ordinal));
        Assert.Equal(pin, script.Contains("Unattended-Upgrade::Package-Blacklist {", StringComparison.Ordinal));
        Assert.Equal(pin, script.Contains("\"libnvidia-\";", StringComparison.Ordinal));
        Assert.Equal(pin, script.Split('\n').Contains("pin_nvidia_driver"));
    }

    [Fact]
    public void The_join_token_is_in_the_env_file_and_not_on_the_agent_command_line()
    {
        var bundle = BootstrapRenderer.Render(BootstrapSamples.Gpu());
        var execStart = bundle.Script.Split('\n').Single(l => l.StartsWith("ExecStart=", StringComparison.Ordinal));
        Assert.DoesNotContain(BootstrapSamples.Token, execStart, StringComparison.Ordinal);
        Assert.DoesNotContain("--join-token", execStart, StringComparison.Ordinal);
        Assert.DoesNotContain("JOIN_TOKEN", execStart, StringComparison.Ordinal);
        Assert.StartsWith("ExecStart=/usr/local/bin/atoll agent --server ${ATOLL_SERVER} --name ${ATOLL_NODE_NAME}", execStart, StringComparison.Ordinal);
        Assert.EndsWith("--state ${ATOLL_STATE_DIR}", execStart, StringComparison.Ordinal);
        var env = bundle.WriteFiles.Single(f => f.Path == BootstrapPaths.EnvFile);
        Assert.Equal("0600", env.Permissions);
        Assert.Contains($"ATOLL_JOIN_TOKEN=\"{BootstrapSamples.Token}\"\n", env.Content, StringComparison.Ordinal);
        // The script carries it only inside the env file's here-document.
        Assert.Equal(1, Occurrences(bundle.Script, BootstrapSamples.Token));
    }

    [Fact]
    public void The_unit_restarts_the_agent_and_reads_the_env_file()
    {
        var script = BootstrapRenderer.Render(BootstrapSamples.Gpu()).Script;
        Assert.Contains("Restart=always\n", script, StringComparison.Ordinal);
        Assert.Contains("RestartPreventExitStatus=2 3\n", script, StringComparison.Ordinal);
        Assert.Contains("EnvironmentFile=/etc/atoll/agent.env\n", script, StringComparison.Ordinal);
        Assert.Contains("cat > /etc/systemd/system/atoll-agent.service <<'ATOLL_EOF'", script, StringComparison.Ordinal);
        Assert.Contains("systemctl enable --now atoll-agent", script, StringComparison.Ordinal);
        Assert.Contains("curl -fsSL --retry 10", script, StringComparison.Ordinal);
        Assert.Contains("install -m 0755 \"$tmp\" /usr/local/bin/atoll", script, StringComparison.Ordinal);
        Assert.Contains("# === mesh join (placeholder)", script, StringComparison.Ordinal);
        Assert.Contains("# === k3s join (placeholder)", script, StringComparison.Ordinal);
        Assert.StartsWith("#!/usr/bin/env bash\n", script, StringComparison.Ordinal);
        Assert.Contains("\nset -euo pipefail\n", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Labels_and_taints_are_rendered()
    {
        var bundle = BootstrapRenderer.Render(BootstrapSamples.Gpu());
        string[] expected =
        [
            "atoll.dev/provider=lambda-main", "atoll.dev/provider-type=lambda", "atoll.dev/region=us-east-1",
            "atoll.dev/instance-type=gpu_8x_h100_sxm5", "atoll.dev/capacity-type=on-demand", "atoll.dev/pool=gpu-pool",
            "atoll.dev/gpu=H100", "atoll.dev/gpu-count=8", "team=inference",
        ];
        var labelArgs = bundle.AgentCommand.Select((a, i) => (a, i)).Where(x => x.a == "--label").Select(x => bundle.AgentCommand[x.i + 1]);
        Assert.Equal(expected, labelArgs);
        var env = bundle.WriteFiles.Single(f => f.Path == BootstrapPaths.EnvFile).Content;
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Contains($"ATOLL_LABEL_{i + 1}=\"{expected[i]}\"\n", env, StringComparison.Ordinal);
            Assert.Contains($"--label ${{ATOLL_LABEL_{i + 1}}}", bundle.Script, StringComparison.Ordinal);
        }
        Assert.DoesNotContain("ATOLL_LABEL_10", bundle.Script, StringComparison.Ordinal);
        Assert.Contains("node_taints=(nvidia.com/gpu=present:NoSchedule)\n", bundle.Script, StringComparison.Ordinal);
    }

    [Fact]
    public void Atolls_own_labels_win_over_extra_ones_and_cpu_nodes_get_no_gpu_label()
    {
        var settings = BootstrapSamples.Gpu() with
        {
            GpuModel = null,
            GpuCount = 0,
            Labels = new Dictionary<string, string> { [NodeLabels.Pool] = "other", ["z"] = "1", ["a"] = "2" },
        };
        var labels = BootstrapRenderer.NodeLabelsOf(settings);
        Assert.Equal("gpu-pool", labels.Single(l => l.Key == NodeLabels.Pool).Value);
        Assert.DoesNotContain(labels, l => l.Key == NodeLabels.Gpu || l.Key == NodeLabels.GpuCount);
        Assert.Equal(["a", "z"], labels.Where(l => !l.Key.StartsWith(NodeLabels.Prefix, StringComparison.Ordinal)).Select(l => l.Key));
    }

    [Fact]
    public void The_local_agent_command_passes_every_flag_and_the_token()
    {
        var command = BootstrapRenderer.Render(BootstrapSamples.Gpu() with { Location = "iad-1", StateDir = "/tmp/node-a" }).AgentCommand;
        Assert.Equal(
            ["agent", "--server", "https://atoll.example.com:7070", "--join-token", BootstrapSamples.Token, "--name", "atoll-c1-gpu-pool-abc12",
             "--provider", "lambda-main", "--region", "us-east-1", "--location", "iad-1", "--instance-type", "gpu_8x_h100_sxm5",
             "--capacity-type", "on-demand"],
            command.Take(17));
        Assert.Equal(["--state", "/tmp/node-a"], command.TakeLast(2));
    }

    [Fact]
    public void Structured_cloud_init_parts_install_curl_write_the_files_and_run_the_script()
    {
        var bundle = BootstrapRenderer.Render(BootstrapSamples.Gpu());
        Assert.Equal(["curl", "ca-certificates"], bundle.Packages);
        Assert.Equal(["bash /var/lib/atoll/bootstrap.sh"], bundle.RunCommands);
        var script = bundle.WriteFiles.Single(f => f.Path == BootstrapPaths.Script);
        Assert.Equal("0700", script.Permissions);
        Assert.Equal(bundle.Script, script.Content);
    }

    [Fact]
    public void The_cloud_config_holds_the_files_byte_for_byte()
    {
        var bundle = BootstrapRenderer.Render(BootstrapSamples.HostileValues());
        Assert.StartsWith("#cloud-config\n", bundle.CloudConfig, StringComparison.Ordinal);
        Assert.Contains("content: |", bundle.CloudConfig, StringComparison.Ordinal);
        var yaml = new YamlStream();
        yaml.Load(new StringReader(bundle.CloudConfig));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        var files = ((YamlSequenceNode)root["write_files"]).Cast<YamlMappingNode>()
            .ToDictionary(f => ((YamlScalarNode)f["path"]).Value!, f => f);
        Assert.Equal(bundle.WriteFiles.Select(f => f.Path).Order(), files.Keys.Order());
        foreach (var file in bundle.WriteFiles)
        {
            Assert.Equal(file.Content, ((YamlScalarNode)files[file.Path]["content"]).Value);
            Assert.Equal(file.Permissions, ((YamlScalarNode)files[file.Path]["permissions"]).Value);
        }
        Assert.Equal(["bash /var/lib/atoll/bootstrap.sh"], ((YamlSequenceNode)root["runcmd"]).Select(n => ((YamlScalarNode)n).Value));
        // Hetzner's user_data limit.
        Assert.True(bundle.CloudConfig.Length < 32 * 1024, $"cloud-config is {bundle.CloudConfig.Length} bytes");
    }

    [Theory]
    [InlineData("NodeName", "NodeName")]
    [InlineData("CapacityType", "preemptible")]
    [InlineData("Taint", "taint 'gpu'")]
    [InlineData("ServerUrl", "ServerUrl 'ftp://x'")]
    [InlineData("Label", "label 'team'")]
    [InlineData("Region", "Region must not contain control characters")]
    public void Invalid_settings_are_refused_with_the_field_named(string field, string expected)
    {
        var s = BootstrapSamples.Gpu();
        s = field switch
        {
            "NodeName" => s with { NodeName = "Bad_Name" },
            "CapacityType" => s with { CapacityType = "preemptible" },
            "Taint" => s with { Taints = ["gpu"] },
            "ServerUrl" => s with { ServerUrl = "ftp://x" },
            "Label" => s with { Labels = new Dictionary<string, string> { ["team"] = new string('x', 64) } },
            _ => s with { Region = "a\nb" },
        };
        var e = Assert.Throws<ArgumentException>(() => BootstrapRenderer.Render(s));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    private static int Occurrences(string text, string value) =>
        (text.Length - text.Replace(value, "", StringComparison.Ordinal).Length) / value.Length;
}
