namespace Atoll.Server;

/// <summary>Settings of <c>atoll server</c>; the defaults run on one machine.</summary>
public sealed class ServerOptions
{
    /// <summary>Kestrel listen URL.</summary>
    public string Listen { get; set; } = "http://127.0.0.1:7070";

    /// <summary>Data directory: SQLite file, admin token file.</summary>
    public string DataDir { get; set; } = DefaultDataDir();

    /// <summary>State store URL; null means SQLite in <see cref="DataDir"/>.</summary>
    public string? Store { get; set; }

    /// <summary>How often agents are told to heartbeat.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A node whose last heartbeat is older than this is not Ready; null means 3 × heartbeat interval.</summary>
    public TimeSpan? NodeTimeout { get; set; }

    /// <summary>Largest request body accepted on the control API.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Object store URL for batch files; null means the filesystem under <see cref="DataDir"/>.</summary>
    public string? Objects { get; set; }

    /// <summary>The URL nodes reach this server at (signed URLs point here); null means <see cref="Listen"/>.</summary>
    public string? PublicUrl { get; set; }

    /// <summary>Files and Batches APIs and the chunk queue.</summary>
    public Batch.BatchOptions Batch { get; set; } = new();

    /// <summary>The OpenAI-compatible gateway on /v1.</summary>
    public Gateway.GatewayOptions Gateway { get; set; } = new();

    /// <summary>Provisioning: pools, claims, offers.</summary>
    public Fleet.FleetOptions Fleet { get; set; } = new();

    public TimeSpan EffectiveNodeTimeout => NodeTimeout ?? HeartbeatInterval * 3;

    /// <summary>Path of the file that receives the admin token once, on first start.</summary>
    public string AdminTokenPath => Path.Combine(DataDir, "admin.token");

    public static string DefaultDataDir() =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".atoll");

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad setting and what is accepted.</summary>
    public void Validate()
    {
        if (!Uri.TryCreate(Listen, UriKind.Absolute, out var listen) || (listen.Scheme != "http" && listen.Scheme != "https"))
        {
            throw new ArgumentException($"invalid --listen '{Listen}': expected a URL such as http://127.0.0.1:7070");
        }
        if (listen.Scheme == "https")
        {
            // Kestrel would fail at start with a stack trace (no certificate is configured here).
            throw new ArgumentException(
                $"invalid --listen '{Listen}': atoll server speaks plain HTTP; listen on http:// and terminate TLS in front of it " +
                "(a reverse proxy or load balancer), and give clients that address with --public-url");
        }
        if (HeartbeatInterval < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentException($"invalid --heartbeat-interval: must be at least 1s");
        }
        if (NodeTimeout is { } t && t <= HeartbeatInterval)
        {
            throw new ArgumentException($"invalid --node-timeout: must be longer than the heartbeat interval ({HeartbeatInterval.TotalSeconds}s)");
        }
        if (string.IsNullOrWhiteSpace(DataDir))
        {
            throw new ArgumentException("invalid --data: empty path");
        }
        if (Gateway.Validate() is { Count: > 0 } problems)
        {
            throw new ArgumentException("invalid gateway settings: " + string.Join("; ", problems));
        }
        if (Batch.Validate() is { Count: > 0 } batchProblems)
        {
            throw new ArgumentException("invalid batch settings: " + string.Join("; ", batchProblems));
        }
        if (Fleet.Validate() is { Count: > 0 } fleetProblems)
        {
            throw new ArgumentException("invalid fleet settings: " + string.Join("; ", fleetProblems));
        }
        if (PublicUrl is not null && !Uri.TryCreate(PublicUrl, UriKind.Absolute, out _))
        {
            throw new ArgumentException($"invalid --public-url '{PublicUrl}': expected a URL such as http://10.0.0.1:7070");
        }
    }
}
