namespace Atoll.Agent.BatchWorker;

/// <summary>This attempt at a chunk cannot succeed; <see cref="Exception.Message"/> is the reason reported to the server.</summary>
internal sealed class AttemptFailedException(string message, Exception? inner = null) : Exception(message, inner);
