using Atoll.Core.Resources;

namespace Atoll.Core.Contracts;

/// <summary>
/// <c>POST /api/v1/resources/apply</c>: create or update these documents (idempotent). With <see cref="Prune"/>, also
/// delete every resource earlier applied with the same <see cref="ApplySet"/> that is not among them (GitOps).
/// With <see cref="DryRun"/>, validate and report what would change without writing.
/// </summary>
public sealed record ApplyRequest(IReadOnlyList<ResourceDocument> Documents, bool Prune = false, string ApplySet = "default", bool DryRun = false);
