namespace Atoll.Core.Resources;

/// <summary>A problem in a YAML file: where (<see cref="Source"/>, 1-based document and line) and what.</summary>
/// <param name="Document">1-based number of the document in the file, counting non-empty documents.</param>
/// <param name="Line">1-based line in the file.</param>
public sealed record ParseError(string Source, int Document, int Line, string Message)
{
    public override string ToString() => $"{Source}: document {Document}, line {Line}: {Message}";
}
