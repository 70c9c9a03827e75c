namespace Atoll.Core.Bootstrap;

/// <summary>The labels every bootstrapped node carries (set by the bootstrap through <c>atoll agent --label</c>).</summary>
public static class NodeLabels
{
    public const string Prefix = "atoll.dev/";
    public const string Provider = "atoll.dev/provider";
    public const string ProviderType = "atoll.dev/provider-type";
    public const string Region = "atoll.dev/region";
    public const string InstanceType = "atoll.dev/instance-type";
    public const string CapacityType = "atoll.dev/capacity-type";
    public const string Pool = "atoll.dev/pool";
    public const string Gpu = "atoll.dev/gpu";
    public const string GpuCount = "atoll.dev/gpu-count";
}
