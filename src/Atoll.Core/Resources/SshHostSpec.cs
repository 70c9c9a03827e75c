namespace Atoll.Core.Resources;

/// <summary>One bring-your-own machine of an <c>ssh</c> provider.</summary>
/// <param name="PrivateKey">Overrides the provider's <c>credentials.privateKey</c> for this host.</param>
/// <param name="Gpu">What the machine has, e.g. <c>8xH100</c> (empty for a CPU machine); used for offers.</param>
/// <param name="Region">Where it stands (default <c>onprem</c>).</param>
public sealed record SshHostSpec(
    string Address,
    int Port = 22,
    string User = "root",
    SecretRef? PrivateKey = null,
    string? Gpu = null,
    int VCpus = 0,
    int MemoryGiB = 0,
    string? Region = null,
    decimal PricePerHour = 0m);
