using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;

namespace Atoll.Storage.State;

/// <summary>Fleet resources (Providers, GpuPools) and node claims, in the state store's database.</summary>
public interface IFleetStore
{
    /// <summary>Resources of one kind (all kinds when null), ordered by kind and name, with their status.</summary>
    Task<IReadOnlyList<ResourceDocument>> ListResourcesAsync(string? kind, CancellationToken ct);

    Task<ResourceDocument?> GetResourceAsync(string kind, string name, CancellationToken ct);

    /// <summary>
    /// In one transaction: creates or updates each document (generation bumped only when spec or labels changed) and,
    /// with <paramref name="prune"/>, deletes resources of <paramref name="applySet"/> not among them. With
    /// <paramref name="dryRun"/> nothing is written. Documents must already be validated.
    /// </summary>
    Task<IReadOnlyList<ApplyResultItem>> ApplyAsync(
        IReadOnlyList<ResourceDocument> documents, string applySet, bool prune, bool dryRun, DateTimeOffset now, CancellationToken ct);

    Task<bool> DeleteResourceAsync(string kind, string name, CancellationToken ct);

    /// <summary>Writes a resource's status (JSON); false when the resource no longer exists.</summary>
    Task<bool> SetStatusAsync(string kind, string name, string statusJson, CancellationToken ct);

    /// <summary>Claims of one pool (all when null), oldest first; Terminated ones only with <paramref name="includeTerminated"/>.</summary>
    Task<IReadOnlyList<NodeClaim>> ListClaimsAsync(string? pool, bool includeTerminated, CancellationToken ct);

    Task<NodeClaim?> GetClaimAsync(string name, CancellationToken ct);

    /// <summary>Inserts a new claim (its Version is stored as 1); false when the name exists.</summary>
    Task<bool> InsertClaimAsync(NodeClaim claim, DateTimeOffset now, CancellationToken ct);

    /// <summary>
    /// Writes <paramref name="claim"/> only if the stored version is still <c>claim.Version</c>; returns the stored claim
    /// (Version + 1), or null when someone else wrote it first (re-read and decide again).
    /// </summary>
    Task<NodeClaim?> UpdateClaimAsync(NodeClaim claim, DateTimeOffset now, CancellationToken ct);

    /// <summary>The stored value of a cluster-wide setting, writing <paramref name="valueIfMissing"/> first when there is none (first writer wins).</summary>
    Task<string> GetOrAddSettingAsync(string key, string valueIfMissing, CancellationToken ct);

    /// <summary>Deletes Terminated claims that ended before <paramref name="before"/>; returns how many.</summary>
    Task<int> PurgeTerminatedClaimsAsync(DateTimeOffset before, CancellationToken ct);
}
