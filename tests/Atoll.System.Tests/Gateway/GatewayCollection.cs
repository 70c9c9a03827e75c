namespace Atoll.System.Tests.Gateway;

/// <summary>
/// The gateway's whole-system tests run one class after another: several of them time the gateway (timeouts,
/// streaming pace, failover under load) and 2 cores shared by a dozen processes would blur that. Classes that do
/// not change their backends share one <see cref="SharedGatewayFixture"/>; the others start their own processes.
/// </summary>
[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<SharedGatewayFixture>
{
    public const string Name = "gateway";
}
