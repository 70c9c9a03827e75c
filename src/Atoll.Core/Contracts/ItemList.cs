namespace Atoll.Core.Contracts;

/// <summary>A list answer of the control API: <c>{"items": [...]}</c>.</summary>
public sealed record ItemList<T>(IReadOnlyList<T> Items);
