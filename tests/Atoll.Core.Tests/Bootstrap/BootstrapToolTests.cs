using Atoll.Core.Bootstrap;
using Atoll.Core.Fleet;

namespace Atoll.Core.Tests.Bootstrap;

/// <summary>Checks the rendered output with the tools that will read it: shellcheck, cloud-init and bash.</summary>
public sealed class BootstrapToolTests
{
    public static TheoryData<string> Samples() => ["gpu", "gpu-unpinned", "hostile", "no-extras"];

    [Theory]
    [MemberData(nameof(Samples))]
    public void The_script_passes_shellcheck(string sample)
    {
        if (SkipWithout(ShellTool.ShellCheck))
        {
            return;
        }
        using var file = ShellTool.Write(Render(sample).Script, ".sh");
        var (exit, output) = ShellTool.Run(ShellTool.ShellCheck, ["--shell=bash", "--severity=style", file.Path]);
        Assert.True(exit == 0, $"shellcheck exit {exit}:\n{output}");
        var (syntax, syntaxOutput) = ShellTool.Run(ShellTool.Bash, ["-n", file.Path]);
        Assert.True(syntax == 0, syntaxOutput);
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void The_cloud_config_passes_the_cloud_init_schema(string sample)
    {
        if (SkipWithout(ShellTool.CloudInit))
        {
            return;
        }
        using var file = ShellTool.Write(Render(sample).CloudConfig, ".yaml");
        var (exit, output) = ShellTool.Run(ShellTool.CloudInit, ["schema", "--config-file", file.Path]);
        Assert.True(exit == 0, $"cloud-init schema exit {exit}:\n{output}");
        // cloud-init 22.x prints "Valid cloud-config: FILE"; later versions "Valid schema FILE".
        Assert.Contains("Valid", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Invalid", output, StringComparison.Ordinal);
    }

    [ToolFact("/bin/bash")]
    public void The_env_file_sourced_by_bash_gives_back_every_hostile_value()
    {
        var settings = BootstrapSamples.HostileValues();
        var bundle = BootstrapRenderer.Render(settings);
        using var env = ShellTool.Write(bundle.WriteFiles.Single(f => f.Path == BootstrapPaths.EnvFile).Content, ".env");
        var (exit, output) = ShellTool.Run(ShellTool.Bash,
            ["-c", "set -a; . \"$1\"; printf '%s\\0' \"$ATOLL_JOIN_TOKEN\" \"$ATOLL_REGION\" \"$ATOLL_INSTANCE_TYPE\" \"$ATOLL_LABEL_9\" \"$ATOLL_LABEL_10\" \"$ATOLL_LABEL_11\"", "bash", env.Path]);
        Assert.True(exit == 0, output);
        var labels = BootstrapRenderer.NodeLabelsOf(settings).Skip(8).Select(l => $"{l.Key}={l.Value}");
        Assert.Equal([BootstrapSamples.Token, settings.Region, settings.InstanceType, .. labels], output.Split('\0')[..^1]);
        Assert.Contains("example.com/spaces=  two  spaces ", output, StringComparison.Ordinal);
    }

    [ToolFact("/bin/bash")]
    public void The_script_settings_give_back_every_hostile_value()
    {
        var settings = BootstrapSamples.HostileValues();
        var script = BootstrapRenderer.Render(settings).Script;
        var start = script.IndexOf("# --- settings (rendered) ---", StringComparison.Ordinal);
        var end = script.IndexOf("# --- end of settings ---", StringComparison.Ordinal);
        Assert.True(start > 0 && end > start, "settings markers not found");
        var (exit, output) = ShellTool.Run(ShellTool.Bash,
            ["-c", "set -euo pipefail\n" + script[start..end] + "\nprintf '%s\\0' \"$node_name\" \"$agent_url\" \"${node_taints[@]}\""]);
        Assert.True(exit == 0, output);
        Assert.Equal([settings.NodeName, settings.AgentUrl, .. settings.Taints], output.Split('\0')[..^1]);
    }

    [ToolFact("/bin/bash")]
    public void Extra_commands_reach_bash_unchanged()
    {
        var settings = BootstrapSamples.HostileValues();
        var script = BootstrapRenderer.Render(settings).Script;
        // The calls come last: replace run_extra with a function that prints what it was given.
        var calls = script[script.IndexOf("\nrun_extra ", StringComparison.Ordinal)..script.LastIndexOf("\nlog ", StringComparison.Ordinal)];
        var (exit, output) = ShellTool.Run(ShellTool.Bash, ["-c", "run_extra() { printf '%s\\0' \"$1\"; }\n" + calls]);
        Assert.True(exit == 0, output);
        Assert.Equal(settings.ExtraCommands, output.Split('\0')[..^1]);
    }

    private static BootstrapBundle Render(string sample) => BootstrapRenderer.Render(sample switch
    {
        "gpu" => BootstrapSamples.Gpu(),
        "gpu-unpinned" => BootstrapSamples.Gpu(pin: false),
        "hostile" => BootstrapSamples.HostileValues(),
        _ => BootstrapSamples.Gpu() with { ExtraCommands = [], Taints = [], Labels = new Dictionary<string, string>(), GpuModel = null, GpuCount = 0 },
    });

    // Theories cannot be skipped per run in xUnit 2: return early with the reason in the output instead.
    private static bool SkipWithout(string tool)
    {
        if (File.Exists(tool) || Environment.IsPrivilegedProcess)
        {
            return false;
        }
        Console.WriteLine($"skipped: {tool} is not installed and the tests do not run as root (test.sh installs it)");
        return true;
    }
}
