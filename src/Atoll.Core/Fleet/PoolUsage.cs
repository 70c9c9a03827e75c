namespace Atoll.Core.Fleet;

/// <summary>What a pool's active claims hold now: GPUs and USD per hour, checked against the pool's limits.</summary>
public sealed record PoolUsage(int Gpus, decimal PricePerHour)
{
    /// <summary>An empty pool.</summary>
    public static readonly PoolUsage None = new(0, 0m);

    /// <summary>The sum over the claims that count toward the pool (<see cref="ClaimPhases.IsActive"/>).</summary>
    public static PoolUsage Of(IEnumerable<NodeClaim> claims)
    {
        ArgumentNullException.ThrowIfNull(claims);
        var gpus = 0;
        var price = 0m;
        foreach (var claim in claims)
        {
            if (ClaimPhases.IsActive(claim.Phase))
            {
                gpus += claim.GpuCount;
                price += claim.PricePerHour ?? 0m;
            }
        }
        return new PoolUsage(gpus, price);
    }
}
