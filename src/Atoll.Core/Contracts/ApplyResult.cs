namespace Atoll.Core.Contracts;

/// <summary>What <c>apply</c> did, one line per resource.</summary>
public sealed record ApplyResult(IReadOnlyList<ApplyResultItem> Results);
