using System.Text.Json;
using System.Text.Json.Nodes;
using Atoll.Core.Resources;
using CsCheck;

namespace Atoll.Core.Tests.Resources;

public sealed class ResourceYamlPropertyTests
{
    // Characters that make YAML reinterpret plain text: indicators, quotes, comments, line breaks, tabs, digits, bool words.
    private static readonly Gen<string> Text = Gen.OneOf(
        Gen.Char["abc :#-'\"\n\t{}[],&*!|>%@`?0123456789.+eExXoO~yYnNtTrRuUfFlLsS é✓"].Array[0, 14].Select(c => new string(c)),
        Gen.OneOf("true", "False", "null", "~", "yes", "No", "on", "OFF", "0x1F", "0o17", "1e3", ".5", "-1", ".inf", ".NaN", "", " ", "- a", "a: b", "#x", "'q'", "\"q\"", "1.10"));

    private static readonly Gen<JsonNode> Scalar = Gen.OneOf<JsonNode>(
        Text.Select(s => (JsonNode)JsonValue.Create(s)),
        Gen.Long.Select(l => (JsonNode)JsonValue.Create(l)),
        Gen.Int[-100_000, 100_000].Select(i => (JsonNode)JsonValue.Create(i / 100m)),
        Gen.Bool.Select(b => (JsonNode)JsonValue.Create(b)));

    private static Gen<JsonNode> Node(int depth) => depth == 0 ? Scalar : Gen.Frequency(
        (3, Scalar),
        (1, Node(depth - 1).Array[0, 4].Select(items => (JsonNode)new JsonArray(items))),
        (1, Map(depth - 1).Select(m => (JsonNode)m)));

    private static Gen<JsonObject> Map(int depth) => Gen.Select(Text.Array[0, 5], Node(depth).Array[5], (keys, values) =>
    {
        var map = new JsonObject();
        for (var i = 0; i < keys.Length; i++)
        {
            map[keys[i]] = values[i];
        }
        return map;
    });

    [Fact]
    public void Any_spec_survives_serialize_then_parse_unchanged()
    {
        Map(3).Sample(spec =>
        {
            var json = JsonSerializer.SerializeToElement(spec);
            var doc = new ResourceDocument(ResourceKinds.ApiVersion, ResourceKinds.GpuPool, new ResourceMetadata("p"), json, json);
            var yaml = ResourceYaml.Serialize([doc, doc]);
            var parsed = ResourceYaml.Parse(yaml, "round-trip.yaml");
            Assert.True(parsed.Ok, string.Join("\n", parsed.Errors) + "\n" + yaml);
            Assert.Equal(2, parsed.Documents.Count);
            Assert.Equal(json.GetRawText(), parsed.Documents[1].Spec.GetRawText());
            Assert.Equal(json.GetRawText(), parsed.Documents[1].Status!.Value.GetRawText());
        }, iter: 500);
    }
}
