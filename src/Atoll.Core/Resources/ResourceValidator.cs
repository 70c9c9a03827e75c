using System.Text.RegularExpressions;
using Atoll.Core.Contracts;

namespace Atoll.Core.Resources;

/// <summary>
/// Checks applied documents field by field. Every <see cref="ResourceError"/> has the field path
/// (<c>spec.requirements.gpuModels[1]</c>) and a message that says what is accepted. The single-document checks
/// need nothing but the document (the CLI runs them before sending); the overloads with known provider names and a
/// secret check are the server's cross-resource checks.
/// </summary>
public static partial class ResourceValidator
{
    /// <summary>Checks one document on its own.</summary>
    public static IReadOnlyList<ResourceError> Validate(int index, ResourceDocument doc) => Validate(index, doc, null, null);

    /// <summary>
    /// Checks one document and its references: a GpuPool's providers must be in <paramref name="knownProviders"/>;
    /// each credential reference is passed to <paramref name="secretProblem"/>, which answers null when the secret
    /// resolves, else what is wrong ("environment variable LAMBDA_KEY is not set").
    /// </summary>
    public static IReadOnlyList<ResourceError> Validate(
        int index, ResourceDocument doc, IReadOnlySet<string>? knownProviders, Func<SecretRef, string?>? secretProblem = null)
    {
        ArgumentNullException.ThrowIfNull(doc);
        var errors = new ValidationErrors(index, doc);
        if (doc.ApiVersion != ResourceKinds.ApiVersion)
        {
            errors.Add("apiVersion", $"unknown apiVersion '{doc.ApiVersion}'; accepted: {ResourceKinds.ApiVersion}");
        }
        var name = doc.Metadata?.Name;
        if (!IsDnsLabel(name))
        {
            errors.Add("metadata.name", $"'{name}' is not a valid name: use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit");
        }
        Labels(errors, "metadata.labels", doc.Metadata?.Labels);
        switch (doc.Kind)
        {
            case ResourceKinds.Provider:
                errors.AddRange(ResourceSpecs.TryRead<ProviderSpec>(index, doc, out var provider));
                if (provider is not null)
                {
                    ProviderSpecValidator.Validate(errors, provider, secretProblem);
                }
                break;
            case ResourceKinds.GpuPool:
                errors.AddRange(ResourceSpecs.TryRead<GpuPoolSpec>(index, doc, out var pool));
                if (pool is not null)
                {
                    PoolSpecValidator.Validate(errors, pool, knownProviders);
                }
                break;
            default:
                errors.Add("kind", $"unknown kind '{doc.Kind}'; accepted: {string.Join(", ", ResourceKinds.All)}");
                break;
        }
        return errors.Items;
    }

    /// <summary>
    /// Checks every document of one request: each on its own, no kind/name twice, and (when
    /// <paramref name="existingProviders"/> is given) pools referencing providers that exist or come in the same request.
    /// </summary>
    public static IReadOnlyList<ResourceError> ValidateAll(
        IReadOnlyList<ResourceDocument> docs, IReadOnlySet<string>? existingProviders = null, Func<SecretRef, string?>? secretProblem = null)
    {
        ArgumentNullException.ThrowIfNull(docs);
        HashSet<string>? known = null;
        if (existingProviders is not null)
        {
            known = new HashSet<string>(existingProviders, StringComparer.Ordinal);
            known.UnionWith(docs.Where(d => d.Kind == ResourceKinds.Provider && d.Metadata?.Name is not null).Select(d => d.Metadata.Name));
        }
        var errors = new List<ResourceError>();
        var first = new Dictionary<(string, string), int>();
        for (var i = 0; i < docs.Count; i++)
        {
            var doc = docs[i];
            errors.AddRange(Validate(i, doc, known, secretProblem));
            if (doc.Metadata?.Name is { } name && !first.TryAdd((doc.Kind, name), i))
            {
                errors.Add(new ResourceError(i, doc.Kind, name, "metadata.name",
                    $"{doc.Kind} '{name}' is already declared by document {first[(doc.Kind, name)] + 1} of this request"));
            }
        }
        return errors;
    }

    /// <summary>True for a DNS-1123 label: 1–63 lower-case letters, digits and '-', starting and ending with a letter or digit.</summary>
    public static bool IsDnsLabel(string? name) => name is { Length: > 0 and <= 63 } && DnsLabel().IsMatch(name);

    /// <summary>Kubernetes label rules: key <c>[prefix/]name</c> (prefix a DNS subdomain, name ≤ 63), value ≤ 63.</summary>
    internal static void Labels(ValidationErrors errors, string path, IReadOnlyDictionary<string, string>? labels)
    {
        foreach (var (key, value) in labels ?? new Dictionary<string, string>())
        {
            var slash = key.IndexOf('/', StringComparison.Ordinal);
            var prefix = slash >= 0 ? key[..slash] : null;
            var name = slash >= 0 ? key[(slash + 1)..] : key;
            var entry = SpecReader.Member(path, key);
            if (!LabelName().IsMatch(name) || name.Length > 63 || (prefix is not null && (prefix.Length > 253 || !Subdomain().IsMatch(prefix))))
            {
                errors.Add(entry, "invalid label key: [prefix/]name where name is at most 63 letters, digits, '-', '_' or '.', "
                    + "starting and ending with a letter or digit, and prefix a lower-case DNS subdomain (e.g. atoll.dev/gpu)");
            }
            else if (value is null || value.Length > 63 || (value.Length > 0 && !LabelName().IsMatch(value)))
            {
                errors.Add(entry, "invalid label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (or empty)");
            }
        }
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    [GeneratedRegex("^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")]
    private static partial Regex LabelName();

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Subdomain();
}
