namespace Atoll.Core.Routing;

/// <summary>What the picker needs to know about one request.</summary>
public sealed record RoutingRequest
{
    public RoutingRequest(string model)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        Model = model;
    }

    public string Model { get; }

    /// <summary>Chained block hashes of the prompt (see <see cref="PrefixHasher"/>); empty when there is no prompt.</summary>
    public IReadOnlyList<ulong> PrefixHashes { get; init; } = [];

    /// <summary>Location of the gateway that routes the request; endpoints there count as nearest.</summary>
    public string? ClientLocation { get; init; }

    /// <summary>Endpoints already tried for this request, never picked again.</summary>
    public IReadOnlyList<string> ExcludedEndpointIds { get; init; } = [];

    /// <summary>A request for the model whose prefix hashes come from the prompt text.</summary>
    public static RoutingRequest ForPrompt(string model, string? prompt, string? clientLocation = null) =>
        new(model)
        {
            PrefixHashes = string.IsNullOrEmpty(prompt) ? [] : PrefixHasher.Hash(prompt),
            ClientLocation = clientLocation,
        };

    /// <summary>The same request with one more endpoint excluded, for a retry.</summary>
    public RoutingRequest Excluding(string endpointId) =>
        this with { ExcludedEndpointIds = [.. ExcludedEndpointIds, endpointId] };

    public bool IsExcluded(string endpointId)
    {
        var excluded = ExcludedEndpointIds;
        for (var i = 0; i < excluded.Count; i++)
        {
            if (string.Equals(excluded[i], endpointId, StringComparison.Ordinal))
                return true;
        }
        return false;
    }
}
