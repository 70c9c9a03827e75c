namespace Atoll.Testing.Providers;

/// <summary>An instance type in a <see cref="LambdaStandIn"/>'s catalog, as <c>GET /instance-types</c> describes it.</summary>
public sealed record LambdaStandInType(
    string Name,
    string Description,
    int PriceCentsPerHour,
    int Gpus,
    int VCpus = 30,
    int MemoryGiB = 200,
    int StorageGiB = 1400);
