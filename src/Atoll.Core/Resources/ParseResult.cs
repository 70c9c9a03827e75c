namespace Atoll.Core.Resources;

/// <summary>The documents read from one YAML file, and the problems found; a document with a problem is left out.</summary>
public sealed record ParseResult(IReadOnlyList<ResourceDocument> Documents, IReadOnlyList<ParseError> Errors)
{
    /// <summary>True when the file had no problem.</summary>
    public bool Ok => Errors.Count == 0;
}
