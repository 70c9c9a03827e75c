using Atoll.Core.Contracts;
using Atoll.Core.Resources;

namespace Atoll.Core.Tests.Resources;

/// <summary>Builds documents from YAML snippets, the way users write them, and validates them.</summary>
internal static class ResourceTestDocs
{
    public static ResourceDocument Doc(string kind, string spec, string name = "main", string apiVersion = ResourceKinds.ApiVersion)
    {
        var indented = string.Join("\n", spec.Split('\n').Select(l => "  " + l));
        var parsed = ResourceYaml.Parse($"apiVersion: {apiVersion}\nkind: {kind}\nmetadata:\n  name: \"{name}\"\nspec:\n{indented}\n", "test.yaml");
        Assert.True(parsed.Ok, string.Join("\n", parsed.Errors));
        return Assert.Single(parsed.Documents);
    }

    public static IReadOnlyList<ResourceError> Errors(string kind, string spec, string name = "main") =>
        ResourceValidator.Validate(3, Doc(kind, spec, name));

    /// <summary>The single error of a document; asserts its path, that the message contains each part, and the document's identity.</summary>
    public static ResourceError Single(IReadOnlyList<ResourceError> errors, string path, params string[] parts)
    {
        var error = Assert.Single(errors);
        Assert.Equal(path, error.Path);
        foreach (var part in parts)
        {
            Assert.Contains(part, error.Message);
        }
        Assert.Equal(3, error.Index);
        return error;
    }
}
