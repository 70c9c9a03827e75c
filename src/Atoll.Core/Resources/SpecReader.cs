using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Atoll.Core.Resources;

/// <summary>
/// Reads JSON into a record strictly, collecting every problem with its field path: unknown fields (with the fields
/// that type accepts), missing required fields, nulls where a value is required, and values of the wrong type.
/// A walk over System.Text.Json's own contract of the type runs first, so that the messages name paths and accepted
/// values; deserialization with <c>JsonUnmappedMemberHandling.Disallow</c> then catches anything it missed.
/// </summary>
internal static class SpecReader
{
    public static T? Read<T>(JsonElement json, string path, JsonSerializerOptions options, List<(string Path, string Message)> errors)
        where T : class
    {
        var before = errors.Count;
        Walk(json, typeof(T), path, options, errors, nullable: false);
        if (errors.Count > before)
        {
            return null;
        }
        try
        {
            return json.Deserialize<T>(options) ?? throw new JsonException("must not be null");
        }
        catch (JsonException e)
        {
            var at = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? path : path + e.Path[1..];
            var message = e.Message;
            var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
            errors.Add((at, cut > 0 ? message[..cut] : message));
            return null;
        }
    }

    /// <summary>The JSON field names a record accepts, in declaration order ("name, labels, generation").</summary>
    public static string Fields(Type type, JsonSerializerOptions options) =>
        string.Join(", ", options.GetTypeInfo(type).Properties.Select(p => p.Name));

    private static void Walk(JsonElement json, Type type, string path, JsonSerializerOptions options, List<(string, string)> errors, bool nullable)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        if (json.ValueKind == JsonValueKind.Null)
        {
            if (!nullable && underlying is null)
            {
                errors.Add((path, "must not be null"));
            }
            return;
        }
        type = underlying ?? type;
        var info = options.GetTypeInfo(type);
        switch (info.Kind)
        {
            case JsonTypeInfoKind.Object when json.ValueKind != JsonValueKind.Object:
                errors.Add((path, $"expected a mapping with fields {Fields(type, options)}; got {Describe(json)}"));
                break;
            case JsonTypeInfoKind.Object:
                WalkObject(json, info, path, options, errors);
                break;
            case JsonTypeInfoKind.Enumerable when json.ValueKind != JsonValueKind.Array:
                errors.Add((path, $"expected a list; got {Describe(json)}"));
                break;
            case JsonTypeInfoKind.Enumerable:
                var i = 0;
                foreach (var item in json.EnumerateArray())
                {
                    Walk(item, info.ElementType!, $"{path}[{i++}]", options, errors, nullable: false);
                }
                break;
            case JsonTypeInfoKind.Dictionary when json.ValueKind != JsonValueKind.Object:
                errors.Add((path, $"expected a mapping; got {Describe(json)}"));
                break;
            case JsonTypeInfoKind.Dictionary:
                foreach (var entry in json.EnumerateObject())
                {
                    Walk(entry.Value, info.ElementType!, Member(path, entry.Name), options, errors, nullable: false);
                }
                break;
            default:
                if (Scalar(json, type) is { } problem)
                {
                    errors.Add((path, problem));
                }
                break;
        }
    }

    private static void WalkObject(JsonElement json, JsonTypeInfo info, string path, JsonSerializerOptions options, List<(string, string)> errors)
    {
        var seen = new HashSet<JsonPropertyInfo>();
        foreach (var field in json.EnumerateObject())
        {
            var property = info.Properties.FirstOrDefault(p => string.Equals(p.Name, field.Name, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                errors.Add((Member(path, field.Name), $"unknown field; accepted: {Fields(info.Type, options)}"));
                continue;
            }
            seen.Add(property);
            Walk(field.Value, property.PropertyType, Member(path, property.Name), options, errors,
                nullable: property.IsSetNullable && property.AssociatedParameter is not { IsNullable: false });
        }
        foreach (var property in info.Properties)
        {
            if (!seen.Contains(property) && property.AssociatedParameter is { HasDefaultValue: false })
            {
                errors.Add((Member(path, property.Name), "required"));
            }
        }
    }

    private static string? Scalar(JsonElement json, Type type)
    {
        if (type == typeof(string))
        {
            return json.ValueKind == JsonValueKind.String ? null : $"expected a string; got {Describe(json)} (quote it)";
        }
        if (type == typeof(bool))
        {
            return json.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : $"expected true or false; got {Describe(json)}";
        }
        if (type == typeof(int) || type == typeof(long))
        {
            return json.ValueKind == JsonValueKind.Number && json.TryGetInt64(out var n) && (type == typeof(long) || n is >= int.MinValue and <= int.MaxValue)
                ? null : $"expected a whole number; got {Describe(json)}";
        }
        if (type == typeof(decimal) || type == typeof(double))
        {
            return json.ValueKind == JsonValueKind.Number && json.TryGetDecimal(out _) ? null : $"expected a number; got {Describe(json)}";
        }
        if (type == typeof(DateTimeOffset))
        {
            return json.ValueKind == JsonValueKind.String && json.TryGetDateTimeOffset(out _) ? null
                : $"expected a timestamp such as 2026-01-31T12:00:00Z; got {Describe(json)}";
        }
        return null;
    }

    private static string Describe(JsonElement json) => json.ValueKind switch
    {
        JsonValueKind.Object => "a mapping",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => $"the string \"{Short(json.GetString())}\"",
        JsonValueKind.Number => $"the number {json.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => $"the boolean {json.GetRawText()}",
        _ => "null",
    };

    private static string Short(string? text) => text is { Length: > 40 } ? text[..40] + "..." : text ?? "";

    /// <summary>"spec.labels.app", or <c>spec.labels["atoll.dev/gpu"]</c> for keys that are not plain words.</summary>
    public static string Member(string path, string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-')
            ? (path.Length == 0 ? name : path + "." + name)
            : $"{path}[\"{name}\"]";
}
