namespace Atoll.Core.Resources;

/// <summary>A resource's name and labels, plus what the server fills in.</summary>
/// <param name="Generation">Bumped by the server each time the spec changes; 0 in documents from files.</param>
public sealed record ResourceMetadata(
    string Name,
    IReadOnlyDictionary<string, string>? Labels = null,
    long Generation = 0,
    DateTimeOffset? CreatedAt = null,
    DateTimeOffset? UpdatedAt = null);
