namespace Atoll.Agent.BatchWorker;

/// <summary>A model this node serves, with the load monitor and line runner of its local server.</summary>
internal sealed record ModelTarget(string Model, string Url, LocalLoadMonitor Load, LineRunner Lines);
