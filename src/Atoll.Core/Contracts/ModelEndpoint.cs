namespace Atoll.Core.Contracts;

/// <summary>A model served by a node, reachable at <see cref="Url"/> (an OpenAI-compatible base URL).</summary>
public sealed record ModelEndpoint(string Model, string Url);
