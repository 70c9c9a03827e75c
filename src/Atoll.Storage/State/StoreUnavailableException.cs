namespace Atoll.Storage.State;

/// <summary>The state store could not be reached or opened; the message says which store and why.</summary>
public sealed class StoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
