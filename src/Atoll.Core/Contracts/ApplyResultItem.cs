namespace Atoll.Core.Contracts;

/// <summary>One resource's outcome: <c>created</c>, <c>configured</c>, <c>unchanged</c> or <c>pruned</c>.</summary>
public sealed record ApplyResultItem(string Kind, string Name, string Action);
