using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Atoll.Core.Contracts;

namespace Atoll.Core.Resources;

/// <summary>
/// Reads a <see cref="ResourceDocument"/>'s <c>spec</c> into its typed record (<see cref="ProviderSpec"/>,
/// <see cref="GpuPoolSpec"/>) strictly: camelCase fields, unknown fields rejected with the field path and the fields
/// that are accepted, numbers must be numbers (a quoted "8" where a count belongs is reported, not guessed).
/// </summary>
public static class ResourceSpecs
{
    /// <summary>The JSON options of specs: web defaults (camelCase), unknown members disallowed, strict numbers, nullability respected.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>
    /// Reads the spec of <paramref name="doc"/> (document <paramref name="index"/> of a request) as <typeparamref name="T"/>.
    /// Returns the problems (paths start with <c>spec</c>); <paramref name="spec"/> is set when there are none.
    /// </summary>
    public static IReadOnlyList<ResourceError> TryRead<T>(int index, ResourceDocument doc, out T? spec) where T : class
    {
        ArgumentNullException.ThrowIfNull(doc);
        var problems = new List<(string Path, string Message)>();
        spec = doc.Spec.ValueKind == JsonValueKind.Undefined
            ? Missing<T>(problems)
            : SpecReader.Read<T>(doc.Spec, "spec", Options, problems);
        return problems.Select(p => new ResourceError(index, doc.Kind, doc.Metadata?.Name, p.Path, p.Message)).ToArray();
    }

    /// <summary>The spec of a Provider; throws <see cref="FormatException"/> listing every problem (for specs already validated).</summary>
    public static ProviderSpec Provider(ResourceDocument doc) => Read<ProviderSpec>(doc);

    /// <summary>The spec of a GpuPool; throws <see cref="FormatException"/> listing every problem (for specs already validated).</summary>
    public static GpuPoolSpec Pool(ResourceDocument doc) => Read<GpuPoolSpec>(doc);

    /// <summary>A typed spec as the JSON a <see cref="ResourceDocument"/> holds (null fields left out).</summary>
    public static JsonElement ToJson<T>(T spec) where T : class => JsonSerializer.SerializeToElement(spec, Options);

    /// <summary>The fields a spec type accepts, comma-separated, for messages.</summary>
    public static string AcceptedFields<T>() => SpecReader.Fields(typeof(T), Options);

    private static T Read<T>(ResourceDocument doc) where T : class
    {
        var errors = TryRead<T>(0, doc, out var spec);
        return spec ?? throw new FormatException(
            $"{doc.Kind} {doc.Metadata?.Name}: " + string.Join("; ", errors.Select(e => $"{e.Path}: {e.Message}")));
    }

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            NumberHandling = JsonNumberHandling.Strict,
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        };
        options.MakeReadOnly();
        return options;
    }

    private static T? Missing<T>(List<(string, string)> problems)
    {
        problems.Add(("spec", $"required: a mapping with fields {SpecReader.Fields(typeof(T), Options)}"));
        return default;
    }
}
