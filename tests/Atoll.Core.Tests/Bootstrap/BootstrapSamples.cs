using Atoll.Core.Bootstrap;

namespace Atoll.Core.Tests.Bootstrap;

/// <summary>Settings the bootstrap tests render: a plain GPU node and one whose free-form values are hostile.</summary>
internal static class BootstrapSamples
{
    public const string Token = "atoll_jt_0123456789abcdef";

    /// <summary>Characters a shell or systemd would act on if they were not quoted.</summary>
    public const string Hostile = "a b 'c' \"d\" $HOME ${PATH} `id` $(id) \\ \\\" ; & | < > * ? ! # ~ % end";

    public static BootstrapSettings Gpu(bool pin = true) => new(
        ServerUrl: "https://atoll.example.com:7070",
        JoinToken: Token,
        NodeName: "atoll-c1-gpu-pool-abc12",
        Provider: "lambda-main",
        ProviderType: "lambda",
        Region: "us-east-1",
        InstanceType: "gpu_8x_h100_sxm5",
        CapacityType: "on-demand",
        GpuModel: "H100",
        GpuCount: 8,
        Pool: "gpu-pool",
        Labels: new Dictionary<string, string> { ["team"] = "inference" },
        Taints: ["nvidia.com/gpu=present:NoSchedule"],
        AgentUrl: "https://atoll.example.com:7070/downloads/atoll",
        PinNvidiaDriver: pin,
        ExtraCommands: ["echo hello > /tmp/atoll-extra"]);

    public static BootstrapSettings HostileValues() => Gpu() with
    {
        Region = "eu " + Hostile[..40],
        InstanceType = "type with 'quotes' and $vars",
        Labels = new Dictionary<string, string>
        {
            ["example.com/quoted"] = "it's \"q\" $x `y`",
            ["example.com/backslash"] = @"c:\path\ end\",
            ["example.com/spaces"] = "  two  spaces ",
        },
        Taints = ["example.com/t='$(id)`x`':NoExecute", "plain:NoSchedule"],
        AgentUrl = "https://example.com/a'b$c`d`/atoll?x=$(id)",
        ExtraCommands = ["printf '%s\\n' \"$HOME\" `true` 'it'\\''s'", "cat <<'X'\nATOLL_EOF\nX", Hostile],
    };
}
