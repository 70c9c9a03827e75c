using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Atoll.Core.Resources;

/// <summary>
/// Resource files: multi-document YAML (<c>---</c>) to <see cref="ResourceDocument"/>s for <c>atoll apply</c>, and back
/// for <c>atoll get -o yaml</c>. Specs become JSON with typed scalars (see <see cref="YamlScalars"/>); their fields are
/// checked later by <see cref="ResourceValidator"/>. Every problem names the source, the document and the line.
/// </summary>
public static partial class ResourceYaml
{
    private static readonly string[] TopLevelFields = ["apiVersion", "kind", "metadata", "spec", "status"];

    /// <summary>Reads every non-empty document of <paramref name="yamlText"/>; <paramref name="source"/> names the file in errors.</summary>
    public static ParseResult Parse(string yamlText, string source)
    {
        ArgumentNullException.ThrowIfNull(yamlText);
        var stream = new YamlStream();
        var parser = new TrackingParser(new Parser(new StringReader(yamlText)));
        try
        {
            stream.Load(parser);
        }
        catch (YamlException e)
        {
            var line = (int)e.Start.Line;
            return new ParseResult([], [new ParseError(source, DocumentAt(yamlText, line), line, Clean(e))]);
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet's scanner gives up this way on some unclosed flow collections ("[a" at the end of a block).
            var line = parser.LastLine + 1;
            return new ParseResult([], [new ParseError(source, DocumentAt(yamlText, line), line,
                $"invalid YAML after line {parser.LastLine} (an unclosed [ or {{?): {e.Message}")]);
        }
        var documents = new List<ResourceDocument>();
        var errors = new List<ParseError>();
        var number = 0;
        foreach (var document in stream.Documents)
        {
            if (YamlJson.IsNull(document.RootNode))
            {
                continue;
            }
            number++;
            var before = errors.Count;
            var read = Read(document.RootNode, (line, message) => errors.Add(new ParseError(source, number, line, message)));
            if (read is not null && errors.Count == before)
            {
                documents.Add(read);
            }
        }
        return new ParseResult(documents, errors);
    }

    /// <summary>The documents as YAML, each starting with <c>---</c>; null fields are left out.</summary>
    public static string Serialize(IEnumerable<ResourceDocument> documents) => ResourceYamlWriter.Write(documents);

    private static ResourceDocument? Read(YamlNode root, Action<int, string> error)
    {
        if (root is not YamlMappingNode map)
        {
            error(Line(root), $"a resource is a mapping with {string.Join(", ", TopLevelFields)}; found {(root is YamlSequenceNode ? "a list" : "a single value")}");
            return null;
        }
        string? apiVersion = null, kind = null;
        ResourceMetadata? metadata = null;
        JsonElement spec = ResourceYamlWriter.EmptyObject;
        JsonElement? status = null;
        var hasMetadata = false;
        foreach (var (key, value) in map.Children)
        {
            var name = (key as YamlScalarNode)?.Value;
            try
            {
                switch (name)
                {
                    case "apiVersion":
                        apiVersion = Text(value, "apiVersion", "atoll.dev/v1alpha1", error);
                        break;
                    case "kind":
                        kind = Text(value, "kind", string.Join(" or ", ResourceKinds.All), error);
                        break;
                    case "metadata":
                        hasMetadata = true;
                        metadata = Metadata(value, error);
                        break;
                    case "spec" when YamlJson.IsNull(value):
                        break;
                    case "spec":
                        spec = YamlJson.Convert(value);
                        if (spec.ValueKind != JsonValueKind.Object)
                        {
                            error(Line(value), "spec must be a mapping");
                        }
                        break;
                    case "status":
                        status = YamlJson.IsNull(value) ? null : YamlJson.Convert(value);
                        break;
                    default:
                        error(Line(key), $"unknown field '{name}'; accepted: {string.Join(", ", TopLevelFields)}");
                        break;
                }
            }
            catch (YamlJson.ShapeException e)
            {
                error(e.Line, $"{name}: {e.Message}");
            }
        }
        if (apiVersion is null)
        {
            error(Line(root), $"apiVersion is required: {ResourceKinds.ApiVersion}");
        }
        if (kind is null)
        {
            error(Line(root), $"kind is required: {string.Join(" or ", ResourceKinds.All)}");
        }
        if (!hasMetadata)
        {
            error(Line(root), "metadata.name is required");
        }
        return apiVersion is null || kind is null || metadata is null ? null : new ResourceDocument(apiVersion, kind, metadata, spec, status);
    }

    private static string? Text(YamlNode value, string field, string expected, Action<int, string> error)
    {
        if (value is YamlScalarNode { Value: { Length: > 0 } text })
        {
            return text;
        }
        error(Line(value), $"{field} must be a value such as {expected}");
        return null;
    }

    private static ResourceMetadata? Metadata(YamlNode node, Action<int, string> error)
    {
        var problems = new List<(string Path, string Message)>();
        var metadata = SpecReader.Read<ResourceMetadata>(YamlJson.Convert(node), "metadata", ResourceSpecs.Options, problems);
        foreach (var (path, message) in problems)
        {
            error(LineOf(node, path), $"{path}: {message}");
        }
        return metadata;
    }

    private static int Line(YamlNode node) => (int)node.Start.Line;

    /// <summary>The line of the node at a path such as <c>metadata.labels.app</c> (or the nearest parent found).</summary>
    private static int LineOf(YamlNode node, string path)
    {
        foreach (Match segment in PathSegment().Matches(path))
        {
            var key = segment.Groups[1].Success ? segment.Groups[1].Value : segment.Groups[3].Success ? segment.Groups[3].Value : null;
            YamlNode? next = null;
            if (key is not null && node is YamlMappingNode mapping)
            {
                next = mapping.Children.FirstOrDefault(c => (c.Key as YamlScalarNode)?.Value == key).Key;
                next = next is null ? null : mapping.Children[next];
            }
            else if (segment.Groups[2].Success && node is YamlSequenceNode sequence && int.TryParse(segment.Groups[2].Value, out var i) && i < sequence.Children.Count)
            {
                next = sequence.Children[i];
            }
            if (next is null)
            {
                break;
            }
            node = next;
        }
        return Line(node);
    }

    /// <summary>The number of the non-empty document that <paramref name="line"/> falls in (for syntax errors).</summary>
    private static int DocumentAt(string text, int line)
    {
        var number = 0;
        var startsNew = true;
        var lines = text.Split('\n');
        for (var i = 0; i < Math.Min(line, lines.Length); i++)
        {
            var l = lines[i].TrimEnd('\r');
            if (l.StartsWith("---", StringComparison.Ordinal) || l.StartsWith("...", StringComparison.Ordinal))
            {
                startsNew = true;
            }
            else if (startsNew && l.Trim().Length > 0 && !l.TrimStart().StartsWith('#'))
            {
                number++;
                startsNew = false;
            }
        }
        return Math.Max(number, 1);
    }

    private static string Clean(YamlException e)
    {
        // "(Line: 3, Col: 5, Idx: 20) - (Line: 3, Col: 6, Idx: 21): While scanning ..." → "While scanning ..."
        var message = e.Message;
        var cut = message.IndexOf("): ", StringComparison.Ordinal);
        message = message.StartsWith("(Line:", StringComparison.Ordinal) && cut > 0 ? message[(cut + 3)..] : message;
        return $"invalid YAML: {message}" + (e.InnerException is { } inner ? $" ({inner.Message})" : "");
    }

    /// <summary>Remembers where the last event ended, for errors that come without a position.</summary>
    private sealed class TrackingParser(IParser inner) : IParser
    {
        public int LastLine { get; private set; }

        public ParsingEvent? Current => inner.Current;

        public bool MoveNext()
        {
            var moved = inner.MoveNext();
            if (inner.Current is { } current)
            {
                LastLine = (int)current.End.Line;
            }
            return moved;
        }
    }

    // ".name", "[3]", "[\"atoll.dev/gpu\"]" after the first segment; the first segment ("metadata") is the node itself.
    [GeneratedRegex("""(?<=\.)([^.\[]+)|\[(\d+)\]|\["([^"]*)"\]""")]
    private static partial Regex PathSegment();
}
