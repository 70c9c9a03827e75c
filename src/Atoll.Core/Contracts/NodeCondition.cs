namespace Atoll.Core.Contracts;

/// <summary>A Kubernetes-style condition: <see cref="Status"/> is "True", "False" or "Unknown".</summary>
public sealed record NodeCondition(
    string Type,
    string Status,
    string Reason,
    string Message,
    DateTimeOffset LastTransitionTime);
