using Atoll.Core.Contracts;

namespace Atoll.Storage.State;

/// <summary>Outcome of <see cref="IStateStore.RegisterNodeAsync"/>; <see cref="Node"/> is set when registered.</summary>
public sealed record RegistrationResult(RegistrationOutcome Outcome, NodeView? Node = null);
