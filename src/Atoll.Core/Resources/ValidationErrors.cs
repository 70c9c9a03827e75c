using Atoll.Core.Contracts;

namespace Atoll.Core.Resources;

/// <summary>Collects the <see cref="ResourceError"/>s of one document, filling in its index, kind and name.</summary>
internal sealed class ValidationErrors(int index, ResourceDocument doc)
{
    private readonly List<ResourceError> _errors = [];

    public int Count => _errors.Count;

    public IReadOnlyList<ResourceError> Items => _errors;

    public void Add(string path, string message) => _errors.Add(new ResourceError(index, doc.Kind, doc.Metadata?.Name, path, message));

    public void AddRange(IEnumerable<ResourceError> errors) => _errors.AddRange(errors);

    /// <summary>Adds an error when <paramref name="value"/> is below <paramref name="min"/>.</summary>
    public void AtLeast(string path, decimal? value, decimal min, string what = "must be at least")
    {
        if (value is { } v && v < min)
        {
            Add(path, $"{what} {min} (got {v})");
        }
    }

    /// <summary>Adds an error for each empty or repeated entry of a list of names.</summary>
    public void Names(string path, IReadOnlyList<string>? values)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (values?.Count ?? 0); i++)
        {
            var value = values![i];
            if (string.IsNullOrWhiteSpace(value))
            {
                Add($"{path}[{i}]", "must not be empty");
            }
            else if (!seen.Add(value))
            {
                Add($"{path}[{i}]", $"'{value}' is listed twice");
            }
        }
    }
}
