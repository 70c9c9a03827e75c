namespace Atoll.Core.Routing;

/// <summary>Queue metrics scraped from a model server (vLLM <c>num_requests_waiting</c>/<c>running</c>) and when.</summary>
public sealed record QueueSample(int Waiting, int Running, DateTimeOffset ObservedAt);
