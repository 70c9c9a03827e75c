using System.Buffers;
using System.Text.Json;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Atoll.Core.Resources;

/// <summary>
/// Writes documents as block YAML for <c>atoll get -o yaml</c>: fields in resource order, null fields left out, and
/// strings quoted whenever a YAML reader would take them for something else ("2", "true", "yes", "").
/// </summary>
internal static class ResourceYamlWriter
{
    public static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    public static string Write(IEnumerable<ResourceDocument> documents)
    {
        ArgumentNullException.ThrowIfNull(documents);
        var text = new StringWriter();
        var emitter = new Emitter(text);
        emitter.Emit(new StreamStart());
        foreach (var doc in documents)
        {
            emitter.Emit(new DocumentStart(null, null, isImplicit: false));
            emitter.Emit(new MappingStart(AnchorName.Empty, TagName.Empty, isImplicit: true, MappingStyle.Block));
            Emit(emitter, "apiVersion");
            Emit(emitter, doc.ApiVersion);
            Emit(emitter, "kind");
            Emit(emitter, doc.Kind);
            Emit(emitter, "metadata");
            Emit(emitter, Metadata(doc.Metadata));
            Emit(emitter, "spec");
            Emit(emitter, doc.Spec.ValueKind == JsonValueKind.Undefined ? EmptyObject : doc.Spec);
            if (doc.Status is { ValueKind: not (JsonValueKind.Undefined or JsonValueKind.Null) } status)
            {
                Emit(emitter, "status");
                Emit(emitter, status);
            }
            emitter.Emit(new MappingEnd());
            emitter.Emit(new DocumentEnd(isImplicit: true));
        }
        emitter.Emit(new StreamEnd());
        return text.ToString();
    }

    private static JsonElement Metadata(ResourceMetadata metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("name", metadata.Name);
            if (metadata.Labels is { Count: > 0 } labels)
            {
                writer.WriteStartObject("labels");
                foreach (var (key, value) in labels.OrderBy(l => l.Key, StringComparer.Ordinal))
                {
                    writer.WriteString(key, value);
                }
                writer.WriteEndObject();
            }
            if (metadata.Generation != 0)
            {
                writer.WriteNumber("generation", metadata.Generation);
            }
            if (metadata.CreatedAt is { } created)
            {
                writer.WriteString("createdAt", created);
            }
            if (metadata.UpdatedAt is { } updated)
            {
                writer.WriteString("updatedAt", updated);
            }
            writer.WriteEndObject();
        }
        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }

    private static void Emit(IEmitter emitter, JsonElement json)
    {
        switch (json.ValueKind)
        {
            case JsonValueKind.Object:
                var fields = json.EnumerateObject().Where(p => p.Value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined)).ToList();
                emitter.Emit(new MappingStart(AnchorName.Empty, TagName.Empty, true, fields.Count == 0 ? MappingStyle.Flow : MappingStyle.Block));
                foreach (var field in fields)
                {
                    Emit(emitter, field.Name);
                    Emit(emitter, field.Value);
                }
                emitter.Emit(new MappingEnd());
                break;
            case JsonValueKind.Array:
                emitter.Emit(new SequenceStart(AnchorName.Empty, TagName.Empty, true, json.GetArrayLength() == 0 ? SequenceStyle.Flow : SequenceStyle.Block));
                foreach (var item in json.EnumerateArray())
                {
                    Emit(emitter, item);
                }
                emitter.Emit(new SequenceEnd());
                break;
            case JsonValueKind.String:
                Emit(emitter, json.GetString()!);
                break;
            case JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False:
                emitter.Emit(new Scalar(AnchorName.Empty, TagName.Empty, json.GetRawText(), ScalarStyle.Plain, true, false));
                break;
            default:
                emitter.Emit(new Scalar(AnchorName.Empty, TagName.Empty, "null", ScalarStyle.Plain, true, false));
                break;
        }
    }

    private static void Emit(IEmitter emitter, string text) =>
        emitter.Emit(new Scalar(AnchorName.Empty, TagName.Empty, text, YamlScalars.StyleFor(text), true, true));
}
