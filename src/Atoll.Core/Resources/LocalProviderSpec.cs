namespace Atoll.Core.Resources;

/// <summary>The <c>local</c> provider: nodes are processes on the server's machine (<c>atoll agent</c> with simulated GPUs and an <c>atoll sim</c>).</summary>
/// <param name="MaxNodes">How many local nodes may run at once.</param>
/// <param name="Shapes">Instance types offered, e.g. <c>1xH100</c>, <c>2xA100</c>; each is offered as spot and on-demand.</param>
/// <param name="Model">The model name each node's simulator serves.</param>
public sealed record LocalProviderSpec(
    int MaxNodes = 8,
    IReadOnlyList<string>? Shapes = null,
    string Model = "llama-sim");
