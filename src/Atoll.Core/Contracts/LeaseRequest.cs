namespace Atoll.Core.Contracts;

/// <summary>An agent asks for batch work for the models it serves, waiting up to <see cref="WaitSeconds"/> for some.</summary>
public sealed record LeaseRequest(IReadOnlyList<string> Models, int WaitSeconds);
