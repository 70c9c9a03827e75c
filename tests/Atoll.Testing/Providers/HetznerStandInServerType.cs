namespace Atoll.Testing.Providers;

/// <summary>A server type a <see cref="HetznerStandIn"/> sells, with its hourly prices per location.</summary>
/// <param name="Prices">Per location, the net and gross EUR per hour as the decimal strings Hetzner sends (<c>"0.0060000000"</c>).</param>
public sealed record HetznerStandInServerType(
    int Id,
    string Name,
    int Cores,
    double MemoryGb,
    int DiskGb,
    IReadOnlyDictionary<string, (string Net, string Gross)> Prices,
    string CpuType = "shared",
    string Architecture = "x86",
    bool Deprecated = false);
