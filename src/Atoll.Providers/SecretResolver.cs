using Atoll.Core.Resources;

namespace Atoll.Providers;

/// <summary>Reads secrets by reference (environment variable or file) on the server; values are never stored.</summary>
public static class SecretResolver
{
    /// <summary>The secret's value (trimmed), or an error message that names the reference and what to do.</summary>
    public static bool TryResolve(SecretRef reference, out string value, out string error)
    {
        value = "";
        error = "";
        if (reference.Env is { Length: > 0 } env)
        {
            var text = Environment.GetEnvironmentVariable(env);
            if (string.IsNullOrEmpty(text))
            {
                error = $"environment variable {env} is not set on the server";
                return false;
            }
            value = text.Trim();
            return true;
        }
        if (reference.File is { Length: > 0 } file)
        {
            try
            {
                value = File.ReadAllText(file).Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error = $"cannot read {file} on the server: {e.Message}";
                return false;
            }
            if (value.Length == 0)
            {
                error = $"{file} is empty";
                return false;
            }
            return true;
        }
        error = "set exactly one of env or file";
        return false;
    }

    /// <summary>Resolves every credential of <paramref name="spec"/>; errors are keyed by field path (<c>spec.credentials.apiKey</c>).</summary>
    public static (Dictionary<string, string> Values, Dictionary<string, string> Errors) ResolveAll(ProviderSpec spec)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, reference) in spec.Credentials ?? new Dictionary<string, SecretRef>())
        {
            if (TryResolve(reference, out var value, out var error))
            {
                values[key] = value;
            }
            else
            {
                errors[$"spec.credentials.{key}"] = error;
            }
        }
        return (values, errors);
    }
}
