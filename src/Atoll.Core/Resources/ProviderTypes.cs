namespace Atoll.Core.Resources;

/// <summary>The provider adapters Atoll has.</summary>
public static class ProviderTypes
{
    public const string Lambda = "lambda";
    public const string Verda = "verda";
    public const string VoltagePark = "voltagepark";
    public const string TensorDock = "tensordock";
    public const string Hetzner = "hetzner";
    public const string Ssh = "ssh";
    public const string Local = "local";

    public static readonly IReadOnlyList<string> All = [Lambda, Verda, VoltagePark, TensorDock, Hetzner, Ssh, Local];
}
