namespace Atoll.Core.Batch;

/// <summary>Errors found while validating, up to a cap.</summary>
internal sealed class BatchErrorList(int max)
{
    private readonly List<BatchLineError> errors = [];

    public IReadOnlyList<BatchLineError> Items => errors;

    public bool IsFull => errors.Count >= max;

    public void Add(string code, int? line, string message, string? param)
    {
        if (!IsFull)
        {
            errors.Add(new BatchLineError(code, line, message, param));
        }
    }
}
