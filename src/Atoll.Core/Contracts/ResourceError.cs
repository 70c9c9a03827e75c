namespace Atoll.Core.Contracts;

/// <summary>
/// One validation error of an applied document, in the <c>errors</c> extension of the 400 problem+json answer.
/// <see cref="Index"/> is the document's position in the request; <see cref="Path"/> the field path
/// (<c>spec.requirements.gpuModels[0]</c>); <see cref="Message"/> says what is accepted.
/// </summary>
public sealed record ResourceError(int Index, string? Kind, string? Name, string Path, string Message);
