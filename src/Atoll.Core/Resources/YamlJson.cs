using System.Buffers;
using System.Globalization;
using System.Text.Json;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Atoll.Core.Resources;

/// <summary>
/// Turns a YAML node into JSON with typed scalars: plain scalars by <see cref="YamlScalars"/>, quoted ones (and
/// <c>!!str</c>) as strings, so that <c>replicas: 2</c> is a number and <c>version: "2"</c> a string.
/// </summary>
internal static class YamlJson
{
    private const int MaxDepth = 64;

    /// <summary>A YAML node that has no JSON form, with where it is.</summary>
    public sealed class ShapeException(Mark at, string message) : Exception(message)
    {
        public int Line { get; } = (int)at.Line;
    }

    public static JsonElement Convert(YamlNode node)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, node, 0);
        }
        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }

    /// <summary>True for a scalar that reads as null (an empty document, <c>spec:</c> with nothing after it).</summary>
    public static bool IsNull(YamlNode? node) =>
        node is null || (node is YamlScalarNode s && s.Style is ScalarStyle.Plain or ScalarStyle.Any && s.Tag.IsEmpty
            && YamlScalars.Resolve(s.Value) == YamlScalars.Kind.Null);

    private static void Write(Utf8JsonWriter writer, YamlNode node, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new ShapeException(node.Start, $"nested more than {MaxDepth} levels deep (or a recursive alias)");
        }
        switch (node)
        {
            case YamlScalarNode scalar:
                WriteScalar(writer, scalar);
                break;
            case YamlSequenceNode sequence:
                writer.WriteStartArray();
                foreach (var item in sequence.Children)
                {
                    Write(writer, item, depth + 1);
                }
                writer.WriteEndArray();
                break;
            case YamlMappingNode mapping:
                writer.WriteStartObject();
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var (key, value) in mapping.Children)
                {
                    if (key is not YamlScalarNode { Value: { } name })
                    {
                        throw new ShapeException(key.Start, "a key must be a plain value, not a list or a mapping");
                    }
                    if (!seen.Add(name))
                    {
                        throw new ShapeException(key.Start, $"duplicate key '{name}'");
                    }
                    writer.WritePropertyName(name);
                    Write(writer, value, depth + 1);
                }
                writer.WriteEndObject();
                break;
            default:
                throw new ShapeException(node.Start, $"unsupported YAML node ({node.NodeType})");
        }
    }

    private static void WriteScalar(Utf8JsonWriter writer, YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        var tag = scalar.Tag.IsEmpty || scalar.Tag.IsNonSpecific ? null : scalar.Tag.Value;
        if (tag == "tag:yaml.org,2002:str" || (tag is null && scalar.Style is not (ScalarStyle.Plain or ScalarStyle.Any)))
        {
            writer.WriteStringValue(value);
            return;
        }
        var kind = YamlScalars.Resolve(value);
        var expected = tag switch
        {
            null => kind,
            "tag:yaml.org,2002:null" => YamlScalars.Kind.Null,
            "tag:yaml.org,2002:bool" => YamlScalars.Kind.Bool,
            "tag:yaml.org,2002:int" => kind is YamlScalars.Kind.Hex or YamlScalars.Kind.Octal ? kind : YamlScalars.Kind.Integer,
            "tag:yaml.org,2002:float" => kind is YamlScalars.Kind.Integer ? kind : YamlScalars.Kind.Float,
            _ => throw new ShapeException(scalar.Start, $"tag {tag} is not supported: use plain or quoted values"),
        };
        if (expected != kind)
        {
            throw new ShapeException(scalar.Start, $"'{value}' is not a valid {tag}");
        }
        switch (kind)
        {
            case YamlScalars.Kind.Null:
                writer.WriteNullValue();
                break;
            case YamlScalars.Kind.Bool:
                writer.WriteBooleanValue(value[0] is 't' or 'T');
                break;
            case YamlScalars.Kind.Integer or YamlScalars.Kind.Float:
                WriteNumber(writer, scalar, value);
                break;
            case YamlScalars.Kind.Hex or YamlScalars.Kind.Octal:
                try
                {
                    writer.WriteNumberValue(System.Convert.ToInt64(value[2..], kind == YamlScalars.Kind.Hex ? 16 : 8));
                }
                catch (OverflowException)
                {
                    throw new ShapeException(scalar.Start, $"number {value} is out of range");
                }
                break;
            default:
                writer.WriteStringValue(value);
                break;
        }
    }

    private static void WriteNumber(Utf8JsonWriter writer, YamlScalarNode scalar, string value)
    {
        if (decimal.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            writer.WriteNumberValue(number);
        }
        else if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var big) && double.IsFinite(big))
        {
            writer.WriteNumberValue(big);
        }
        else
        {
            throw new ShapeException(scalar.Start, $"number {value} is out of range");
        }
    }
}
