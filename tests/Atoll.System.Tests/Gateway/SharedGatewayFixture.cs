namespace Atoll.System.Tests.Gateway;

/// <summary>
/// Two slow-ish sims (100 ms between tokens, so streams are seen to flow and can be cut mid-way) behind one
/// <c>atoll server</c>, for tests that neither break nor reconfigure their backends.
/// </summary>
public sealed class SharedGatewayFixture : IAsyncLifetime, IDisposable
{
    public const int InterTokenMs = 100;

    private readonly TempDirectory dir = new("gateway-shared");
    private GatewayFleet? fleet;

    internal GatewayFleet Fleet => fleet ?? throw new InvalidOperationException("the shared gateway has not started");

    internal GatewayServer Server => Fleet.Server;

    internal IReadOnlyList<RunningSim> Sims => Fleet.Sims;

    public async Task InitializeAsync() =>
        fleet = await GatewayFleet.StartAsync(dir, [["--itl", $"{InterTokenMs}"], ["--itl", $"{InterTokenMs}"]]);

    public async Task DisposeAsync()
    {
        if (fleet is not null)
        {
            await fleet.DisposeAsync();
        }
    }

    public void Dispose() => dir.Dispose();
}
