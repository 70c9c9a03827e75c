namespace Atoll.Server.Fleet;

/// <summary>Settings of provisioning: how often the fleet reconciler runs and how long it remembers failures.</summary>
public sealed class FleetOptions
{
    /// <summary>Run the provisioning loop at all (off: resources can be applied but nothing is launched).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often pools and claims are reconciled (apply and delete also trigger a pass at once).</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often each provider's offer catalog is fetched again (on demand with <c>atoll offers --refresh</c>).</summary>
    public TimeSpan OfferRefreshInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often each provider is asked for the state of its instances (one list call per provider).</summary>
    public TimeSpan InstancePollInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often provider accounts are swept for Atoll instances that no claim owns.</summary>
    public TimeSpan OrphanSweepInterval { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long an offer that failed with a capacity or quota error is skipped (Karpenter: 3 minutes).</summary>
    public TimeSpan UnavailableOfferTtl { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>How long terminated claims stay visible (<c>atoll get claims --all</c>).</summary>
    public TimeSpan ClaimRetention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Offers tried for one claim in one pass before waiting for the next pass.</summary>
    public int LaunchAttemptsPerPass { get; set; } = 5;

    /// <summary>Where new VMs download the atoll binary; null = <c>{public URL}/downloads/atoll</c>.</summary>
    public string? AgentUrl { get; set; }

    /// <summary>Problems, each naming the setting; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (ReconcileInterval < TimeSpan.FromMilliseconds(100))
        {
            problems.Add("fleet reconcile interval must be at least 100ms");
        }
        if (LaunchAttemptsPerPass < 1)
        {
            problems.Add("fleet launch attempts per pass must be at least 1");
        }
        if (AgentUrl is not null && !Uri.TryCreate(AgentUrl, UriKind.Absolute, out _))
        {
            problems.Add($"fleet agent URL '{AgentUrl}' is not an absolute URL");
        }
        return problems;
    }
}
