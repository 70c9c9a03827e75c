namespace Atoll.Storage.State;

/// <summary>One forward-only schema step; <see cref="Statements"/> run in order inside one transaction.</summary>
internal sealed record Migration(int Version, string Name, IReadOnlyList<string> Statements);
