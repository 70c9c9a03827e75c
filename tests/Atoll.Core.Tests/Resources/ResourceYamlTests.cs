using System.Text.Json;
using Atoll.Core.Resources;

namespace Atoll.Core.Tests.Resources;

public sealed class ResourceYamlTests
{
    private const string TwoResources = """
        # the fleet
        apiVersion: atoll.dev/v1alpha1
        kind: Provider
        metadata:
          name: lambda
          labels: {team: ml}
        spec:
          type: lambda
          credentials:
            apiKey: {env: LAMBDA_API_KEY}
        ---
        ---
        apiVersion: atoll.dev/v1alpha1
        kind: GpuPool
        metadata: {name: h100}
        spec:
          providers: [lambda]
          requirements: {gpuModels: [H100], gpusPerNode: 8}
          maxPricePerHour: 24.5
          replicas: 2
          labels:
            version: "2"
            enabled: "true"
            plain: yes
            empty: ""
          taints: ["a=b:NoSchedule"]
          bootstrap: {pinNvidiaDriver: false}
        """;

    [Fact]
    public void Multi_document_yaml_becomes_documents_with_typed_json_specs()
    {
        var result = ResourceYaml.Parse(TwoResources, "fleet.yaml");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal(2, result.Documents.Count);
        var (provider, pool) = (result.Documents[0], result.Documents[1]);
        Assert.Equal(("atoll.dev/v1alpha1", "Provider", "lambda"), (provider.ApiVersion, provider.Kind, provider.Metadata.Name));
        Assert.Equal("ml", provider.Metadata.Labels!["team"]);
        Assert.Equal("LAMBDA_API_KEY", provider.Spec.GetProperty("credentials").GetProperty("apiKey").GetProperty("env").GetString());

        var spec = pool.Spec;
        Assert.Equal(JsonValueKind.Number, spec.GetProperty("replicas").ValueKind);
        Assert.Equal(24.5m, spec.GetProperty("maxPricePerHour").GetDecimal());
        Assert.Equal(8, spec.GetProperty("requirements").GetProperty("gpusPerNode").GetInt32());
        Assert.Equal(JsonValueKind.False, spec.GetProperty("bootstrap").GetProperty("pinNvidiaDriver").ValueKind);
        var labels = spec.GetProperty("labels");
        Assert.Equal(JsonValueKind.String, labels.GetProperty("version").ValueKind);
        Assert.Equal("true", labels.GetProperty("enabled").GetString());
        Assert.Equal("yes", labels.GetProperty("plain").GetString());
        Assert.Equal("", labels.GetProperty("empty").GetString());

        var typed = ResourceSpecs.Pool(pool);
        Assert.Equal(["lambda"], typed.Providers);
        Assert.Equal(2, typed.Replicas);
        Assert.Equal("2", typed.Labels!["version"]);
    }

    [Fact]
    public void Syntax_errors_name_the_source_document_and_line()
    {
        var text = "apiVersion: atoll.dev/v1alpha1\nkind: Provider\nmetadata: {name: a}\nspec: {type: ssh}\n---\nkind: GpuPool\nspec:\n  providers: [a\n  replicas: 1\n";
        var result = ResourceYaml.Parse(text, "bad.yaml");
        var error = Assert.Single(result.Errors);
        Assert.Equal(("bad.yaml", 2), (error.Source, error.Document));
        Assert.InRange(error.Line, 8, 10);
        Assert.StartsWith("invalid YAML", error.Message);
        Assert.StartsWith("bad.yaml: document 2, line ", error.ToString());
        Assert.Empty(result.Documents);
    }

    [Fact]
    public void Indentation_errors_name_their_line()
    {
        var error = Assert.Single(ResourceYaml.Parse("# c\n---\napiVersion: a\nkind: b\n  bad: indent\n", "i.yaml").Errors);
        Assert.Equal((1, 5), (error.Document, error.Line));
        Assert.StartsWith("invalid YAML: ", error.Message);
        Assert.DoesNotContain("Idx:", error.Message);
    }

    [Theory]
    [InlineData("apiVersion: atoll.dev/v1alpha1\nkind: Provider\nmetadata: {name: a}\nspec: {type: ssh}\nspecs: {}\n", 5, "unknown field 'specs'; accepted: apiVersion, kind, metadata, spec, status")]
    [InlineData("apiVersion: atoll.dev/v1alpha1\nmetadata: {name: a}\n", 1, "kind is required: Provider or GpuPool")]
    [InlineData("kind: Provider\nmetadata: {name: a}\n", 1, "apiVersion is required: atoll.dev/v1alpha1")]
    [InlineData("apiVersion: atoll.dev/v1alpha1\nkind: Provider\nspec: {}\n", 1, "metadata.name is required")]
    [InlineData("apiVersion: atoll.dev/v1alpha1\nkind: Provider\nmetadata:\n  name: a\n  labls: {}\n", 5, "metadata.labls: unknown field; accepted: name, labels, generation, createdAt, updatedAt")]
    [InlineData("apiVersion: atoll.dev/v1alpha1\nkind: Provider\nmetadata:\n  labels: {}\n", 4, "metadata.name: required")]
    [InlineData("apiVersion: atoll.dev/v1alpha1\nkind: Provider\nmetadata: {name: a}\nspec: [1, 2]\n", 4, "spec must be a mapping")]
    [InlineData("- a\n- b\n", 1, "a resource is a mapping with apiVersion, kind, metadata, spec, status; found a list")]
    [InlineData("apiVersion: atoll.dev/v1alpha1\nkind: Provider\nmetadata: {name: a}\nspec:\n  type: ssh\n  type: local\n", 6, "Duplicate key type")]
    [InlineData("apiVersion: atoll.dev/v1alpha1\nkind: Provider\nmetadata: {name: a}\nspec:\n  type: ssh\n  port: 0xFFFFFFFFFFFFFFFFFFFF\n", 6, "spec: number 0xFFFFFFFFFFFFFFFFFFFF is out of range")]
    [InlineData("apiVersion: atoll.dev/v1alpha1\nkind: Provider\nmetadata: {name: a}\nspec:\n  type: !!int ssh\n", 5, "'ssh' is not a valid tag:yaml.org,2002:int")]
    [InlineData("apiVersion: atoll.dev/v1alpha1\nkind: Provider\nmetadata: {name: a}\nspec:\n  type: !secret ssh\n", 5, "tag !secret is not supported")]
    [InlineData("apiVersion: atoll.dev/v1alpha1\nkind: Provider\nmetadata: {name: 7}\n", 3, "metadata.name: expected a string; got the number 7 (quote it)")]
    public void Structural_problems_are_reported_with_their_line(string yaml, int line, string message)
    {
        var error = Assert.Single(ResourceYaml.Parse(yaml, "f.yaml").Errors);
        Assert.Equal(line, error.Line);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Empty_documents_and_comment_only_files_are_skipped()
    {
        Assert.Empty(ResourceYaml.Parse("", "e.yaml").Documents);
        Assert.Empty(ResourceYaml.Parse("# nothing\n---\n---\n", "e.yaml").Documents);
        Assert.True(ResourceYaml.Parse("# nothing\n---\n---\n", "e.yaml").Ok);
    }

    [Fact]
    public void Documents_survive_a_round_trip_through_serialize()
    {
        var first = ResourceYaml.Parse(TwoResources, "fleet.yaml").Documents;
        var withStatus = first[1] with
        {
            Metadata = first[1].Metadata with { Generation = 3, CreatedAt = new DateTimeOffset(2026, 11, 30, 8, 0, 0, TimeSpan.Zero) },
            Status = JsonDocument.Parse("""{"desired":2,"message":"no offer fits: 1: yes","updatedAt":"2026-11-30T08:00:00+00:00","nullField":null}""").RootElement,
        };
        var yaml = ResourceYaml.Serialize([first[0], withStatus]);
        Assert.StartsWith("---\napiVersion: atoll.dev/v1alpha1\nkind: Provider\nmetadata:\n  name: lambda\n", yaml);
        Assert.Contains("version: \"2\"", yaml);
        Assert.Contains("plain: \"yes\"", yaml);
        Assert.DoesNotContain("nullField", yaml);

        var again = ResourceYaml.Parse(yaml, "out.yaml");
        Assert.True(again.Ok, string.Join("\n", again.Errors));
        Assert.Equal(2, again.Documents.Count);
        Assert.Equal(Json(first[0].Spec), Json(again.Documents[0].Spec));
        Assert.Equal(Json(withStatus.Spec), Json(again.Documents[1].Spec));
        Assert.Equal(withStatus.Metadata.Generation, again.Documents[1].Metadata.Generation);
        Assert.Equal(withStatus.Metadata.CreatedAt, again.Documents[1].Metadata.CreatedAt);
        Assert.Equal("no offer fits: 1: yes", again.Documents[1].Status!.Value.GetProperty("message").GetString());
        Assert.Equal(ResourceYaml.Serialize(again.Documents), ResourceYaml.Serialize([first[0], withStatus]));
    }

    [Theory]
    [InlineData("true")]
    [InlineData("null")]
    [InlineData("~")]
    [InlineData("1.5")]
    [InlineData("0x1F")]
    [InlineData("-3")]
    [InlineData("on")]
    [InlineData(" padded ")]
    [InlineData("line one\nline two\n")]
    [InlineData("a: b")]
    [InlineData("- dash")]
    [InlineData("#hash")]
    [InlineData("quote \" and ' marks")]
    [InlineData("ünïcödé ✓")]
    public void Strings_that_look_like_other_things_stay_strings(string value)
    {
        var spec = JsonSerializer.SerializeToElement(new Dictionary<string, string> { ["value"] = value });
        var doc = new ResourceDocument("atoll.dev/v1alpha1", "Provider", new ResourceMetadata("a"), spec);
        var back = ResourceYaml.Parse(ResourceYaml.Serialize([doc]), "x").Documents.Single();
        Assert.Equal(JsonValueKind.String, back.Spec.GetProperty("value").ValueKind);
        Assert.Equal(value, back.Spec.GetProperty("value").GetString());
    }

    [Theory]
    [InlineData("1", "1")]
    [InlineData("-2", "-2")]
    [InlineData("1.50", "1.50")]
    [InlineData("1e3", "1000")]
    [InlineData("0x10", "16")]
    [InlineData("0o17", "15")]
    [InlineData(".5", "0.5")]
    [InlineData("!!str 5", "\"5\"")]
    [InlineData("'5'", "\"5\"")]
    [InlineData("~", "null")]
    [InlineData("FALSE", "false")]
    [InlineData(".inf", "\".inf\"")]
    [InlineData("1.2.3", "\"1.2.3\"")]
    public void Plain_scalars_are_typed_by_the_yaml_core_schema(string yaml, string json)
    {
        var doc = ResourceYaml.Parse($"apiVersion: v\nkind: k\nmetadata: {{name: a}}\nspec:\n  x: {yaml}\n", "x").Documents.Single();
        Assert.Equal(json, doc.Spec.GetProperty("x").GetRawText());
    }

    private static string Json(JsonElement e) => JsonSerializer.Serialize(e);
}
