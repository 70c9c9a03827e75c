namespace Atoll.Core.Fleet;

/// <summary>Brings a pool's count of active claims to its desired size.</summary>
public static class PoolScaler
{
    /// <summary>
    /// The plan for <paramref name="pool"/> given its claims (only <see cref="ClaimPhases.IsActive"/> ones count).
    /// Scaling down removes, in order: claims not yet Initialized (newest first: they serve nothing yet), then
    /// Initialized claims whose node is in <paramref name="idleNodes"/>, then the most expensive; ties newest first.
    /// </summary>
    /// <param name="idleNodes">Node (or claim) names serving no requests now.</param>
    public static ScalePlan Plan(PoolPolicy pool, IReadOnlyList<NodeClaim> activeClaims, IReadOnlySet<string>? idleNodes = null)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(activeClaims);
        var active = 0;
        foreach (var claim in activeClaims)
        {
            if (ClaimPhases.IsActive(claim.Phase))
            {
                active++;
            }
        }
        if (active == pool.Desired)
        {
            return ScalePlan.None;
        }
        if (active < pool.Desired)
        {
            return new ScalePlan(pool.Desired - active, []);
        }
        var candidates = new List<(NodeClaim Claim, int Group)>(active);
        foreach (var claim in activeClaims)
        {
            if (ClaimPhases.IsActive(claim.Phase))
            {
                var group = claim.Phase != ClaimPhases.Initialized ? 0 : IsIdle(claim, idleNodes) ? 1 : 2;
                candidates.Add((claim, group));
            }
        }
        candidates.Sort(static (a, b) =>
        {
            var c = a.Group.CompareTo(b.Group);
            // Not initialized: newest first. Idle and busy: most expensive first, then newest.
            if (c == 0 && a.Group > 0) { c = (b.Claim.PricePerHour ?? 0m).CompareTo(a.Claim.PricePerHour ?? 0m); }
            if (c == 0) { c = b.Claim.CreatedAt.CompareTo(a.Claim.CreatedAt); }
            if (c == 0) { c = string.CompareOrdinal(a.Claim.Name, b.Claim.Name); }
            return c;
        });
        var remove = new NodeClaim[active - pool.Desired];
        for (var i = 0; i < remove.Length; i++)
        {
            remove[i] = candidates[i].Claim;
        }
        return new ScalePlan(0, remove);
    }

    private static bool IsIdle(NodeClaim claim, IReadOnlySet<string>? idleNodes) =>
        idleNodes is { Count: > 0 } && (idleNodes.Contains(claim.Name) || (claim.NodeName is { } node && idleNodes.Contains(node)));
}
