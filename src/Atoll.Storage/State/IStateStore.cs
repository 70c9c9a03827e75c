using Atoll.Core.Contracts;

namespace Atoll.Storage.State;

/// <summary>
/// The control plane's durable state. One logical schema on two engines (SQLite by default, PostgreSQL for
/// several servers); every method is one short transaction so that concurrent servers stay consistent.
/// Only hashes of secrets are ever passed in or stored.
/// </summary>
public interface IStateStore : IAsyncDisposable
{
    /// <summary>"sqlite" or "postgres".</summary>
    string Engine { get; }

    /// <summary>Where the data lives, safe to log (no password).</summary>
    string Description { get; }

    /// <summary>Gateway API keys, in the same database.</summary>
    IApiKeyStore ApiKeys { get; }

    /// <summary>Files, batches and the chunk queue, in the same database.</summary>
    IBatchStore Batches { get; }

    /// <summary>Fleet resources and node claims, in the same database.</summary>
    IFleetStore Fleet { get; }

    /// <summary>Applies pending forward-only migrations; safe to call from several servers at once.</summary>
    Task MigrateAsync(CancellationToken ct);

    /// <summary>Highest applied migration version (0 for an empty database).</summary>
    Task<int> SchemaVersionAsync(CancellationToken ct);

    /// <summary>Throws <see cref="StoreUnavailableException"/> when the store cannot be reached.</summary>
    Task PingAsync(CancellationToken ct);

    Task<bool> HasAdminTokenAsync(CancellationToken ct);

    Task AddAdminTokenAsync(string id, string tokenHash, DateTimeOffset now, CancellationToken ct);

    Task<bool> IsAdminTokenAsync(string tokenHash, CancellationToken ct);

    Task AddJoinTokenAsync(JoinTokenRecord token, CancellationToken ct);

    Task<IReadOnlyList<JoinTokenRecord>> ListJoinTokensAsync(CancellationToken ct);

    Task<bool> DeleteJoinTokenAsync(string id, CancellationToken ct);

    /// <summary>
    /// In one transaction: checks and counts down the join token, refuses a name whose node heartbeated at or
    /// after <paramref name="aliveAfter"/>, writes the node (replacing a dead one of the same name) and makes
    /// <paramref name="credentialHash"/> the node's only credential. The node's pool is the token's pool.
    /// A retry of a registration whose answer was lost — same join token, same name, same
    /// <paramref name="registrationKeyHash"/>, token not expired — instead replaces that node's credential without
    /// spending a use and whether or not the node looks alive.
    /// </summary>
    Task<RegistrationResult> RegisterNodeAsync(
        string joinTokenHash, NodeView node, string credentialHash, DateTimeOffset now, DateTimeOffset aliveAfter,
        string? registrationKeyHash, CancellationToken ct);

    /// <summary>The name of the node this credential belongs to, or null when unknown or revoked.</summary>
    Task<string?> FindNodeByCredentialAsync(string credentialHash, CancellationToken ct);

    Task<NodeView?> GetNodeAsync(string name, CancellationToken ct);

    /// <summary>All nodes, ordered by name.</summary>
    Task<IReadOnlyList<NodeView>> ListNodesAsync(CancellationToken ct);

    /// <summary>Stores a heartbeat; false when the node no longer exists.</summary>
    Task<bool> RecordHeartbeatAsync(
        string name, GpuReport gpu, IReadOnlyList<ModelEndpoint> models, IReadOnlyList<NodeCondition> conditions,
        DateTimeOffset now, CancellationToken ct);

    /// <summary>
    /// Writes conditions only if the node's last heartbeat is still <paramref name="expectedLastHeartbeat"/>,
    /// so a reconciler never overwrites what a heartbeat just reported. False when nothing was written.
    /// </summary>
    Task<bool> UpdateConditionsAsync(
        string name, IReadOnlyList<NodeCondition> conditions, DateTimeOffset expectedLastHeartbeat, CancellationToken ct);

    /// <summary>Deletes the node and revokes its credentials; false when there was no such node.</summary>
    Task<bool> DeleteNodeAsync(string name, CancellationToken ct);
}
