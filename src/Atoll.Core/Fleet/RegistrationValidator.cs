using Atoll.Core.Contracts;

namespace Atoll.Core.Fleet;

/// <summary>Checks what an agent says about itself before it becomes a node.</summary>
public static class RegistrationValidator
{
    /// <summary>Null when valid, else the first problem as a message a person can act on.</summary>
    public static string? Validate(RegisterNodeRequest request) =>
        NodeNames.Validate(request.Name)
        ?? Required(request.Provider, "provider")
        ?? Required(request.Region, "region")
        ?? (CapacityTypes.IsValid(request.CapacityType)
            ? null
            : $"capacityType '{request.CapacityType}' is invalid: use '{CapacityTypes.Spot}' or '{CapacityTypes.OnDemand}'")
        ?? ValidateLabels(request.Labels)
        ?? ValidateModels(request.Models)
        ?? ValidateRegistrationKey(request.RegistrationKey);

    /// <summary>Smallest registration key accepted: 128 bits written as hex or base64.</summary>
    public const int MinRegistrationKeyLength = 22;

    private static string? ValidateRegistrationKey(string? key) =>
        key is null || (key.Length is >= MinRegistrationKeyLength and <= 256 && key.All(c => c is > ' ' and < (char)127))
            ? null
            : $"registrationKey must be {MinRegistrationKeyLength} to 256 printable ASCII characters (a random secret the agent keeps)";

    /// <summary>Null when every endpoint has a model name and an absolute http(s) URL.</summary>
    public static string? ValidateModels(IReadOnlyList<ModelEndpoint>? models)
    {
        foreach (var m in models ?? [])
        {
            if (string.IsNullOrWhiteSpace(m.Model))
            {
                return "a model endpoint has an empty model name";
            }
            if (!Uri.TryCreate(m.Url, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            {
                return $"model '{m.Model}' has invalid URL '{m.Url}': expected http(s)://host:port";
            }
        }
        return null;
    }

    private static string? ValidateLabels(IReadOnlyDictionary<string, string>? labels)
    {
        foreach (var (key, value) in labels ?? new Dictionary<string, string>())
        {
            if (string.IsNullOrWhiteSpace(key) || key.Length > 253 || key.Any(char.IsWhiteSpace))
            {
                return $"label key '{key}' is invalid: non-empty, no spaces, at most 253 characters";
            }
            if (value is null || value.Length > 63)
            {
                return $"label '{key}' has a value longer than 63 characters";
            }
        }
        return null;
    }

    private static string? Required(string? value, string field) =>
        string.IsNullOrWhiteSpace(value) ? $"{field} is required" : null;
}
