namespace Atoll.Testing.Providers;

/// <summary>A preset (VM shape) a <see cref="VoltageParkStandIn"/> location offers, in Voltage Park's terms.</summary>
/// <param name="Id">The preset id, the <c>config_id</c> of a create.</param>
/// <param name="Gpu">The key under <c>resources.gpus</c>, e.g. <c>h100-sxm5-80gb</c>.</param>
/// <param name="ComputeRateHourly">USD per hour for the whole VM; serialised as a number.</param>
public sealed record VoltageParkStandInPreset(
    string Id,
    string Gpu,
    int GpuCount,
    decimal ComputeRateHourly,
    decimal StorageRateHourly = 0,
    int VCpus = 26,
    int RamGb = 200,
    int StorageGb = 1000,
    string OperatingSystem = "Ubuntu 22.04 LTS");
