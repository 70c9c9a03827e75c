namespace Atoll.Core.Fleet;

/// <summary>
/// The lifecycle timeouts of a node claim (Karpenter's launch and registration timeouts, plus the initialization
/// timeout Karpenter lacks, so that a GPU node whose GPUs never turn healthy stops costing money).
/// </summary>
public static class ClaimTimeouts
{
    /// <summary>
    /// Null while <paramref name="claim"/> is within its phase's timeout, else why it is given up, naming the timeout
    /// and its value ("registration timeout: no agent joined within 20m of launch (launched 21m ago)").
    /// Pending counts from creation, Launched from launch, Registered from registration; other phases never expire.
    /// </summary>
    public static string? Expired(NodeClaim claim, PoolPolicy pool, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(claim);
        ArgumentNullException.ThrowIfNull(pool);
        return claim.Phase switch
        {
            ClaimPhases.Pending => Check(now - claim.CreatedAt, pool.LaunchTimeout,
                "launch timeout: no instance was launched within {0} of the claim's creation (created {1} ago)"),
            ClaimPhases.Launched => Check(now - (claim.LaunchedAt ?? claim.CreatedAt), pool.RegistrationTimeout,
                "registration timeout: no agent joined within {0} of launch (launched {1} ago)"),
            ClaimPhases.Registered => Check(now - (claim.RegisteredAt ?? claim.LaunchedAt ?? claim.CreatedAt), pool.InitializationTimeout,
                "initialization timeout: the node was not Ready with healthy GPUs within {0} of registering (registered {1} ago)"),
            _ => null,
        };
    }

    private static string? Check(TimeSpan elapsed, TimeSpan timeout, string format) =>
        elapsed >= timeout ? string.Format(null, format, Durations.Format(timeout), Durations.Format(elapsed)) : null;
}
