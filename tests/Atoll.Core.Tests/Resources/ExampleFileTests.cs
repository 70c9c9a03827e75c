using Atoll.Core.Resources;

namespace Atoll.Core.Tests.Resources;

/// <summary>The YAML files the docs point people at must parse and validate as they are.</summary>
public sealed class ExampleFileTests
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var file in ExampleFiles())
        {
            data.Add(file);
        }
        return data;
    }

    private static List<string> ExampleFiles() =>
        Directory.EnumerateFiles(Path.Combine(RepoRoot(), "examples"), "*.yaml", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(RepoRoot(), f)).Order(StringComparer.Ordinal).ToList();

    [Theory, MemberData(nameof(Files))]
    public void Example_file_parses_and_validates(string file)
    {
        var parsed = ResourceYaml.Parse(File.ReadAllText(Path.Combine(RepoRoot(), file)), file);
        Assert.True(parsed.Ok, string.Join('\n', parsed.Errors));
        Assert.NotEmpty(parsed.Documents);
        // Pools may name providers of the other example file in the same folder.
        var folder = Path.GetDirectoryName(Path.Combine(RepoRoot(), file))!;
        var providers = Directory.EnumerateFiles(folder, "*.yaml")
            .SelectMany(f => ResourceYaml.Parse(File.ReadAllText(f), f).Documents)
            .Where(d => d.Kind == ResourceKinds.Provider).Select(d => d.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        var errors = ResourceValidator.ValidateAll(parsed.Documents, providers);
        Assert.True(errors.Count == 0, string.Join('\n', errors.Select(e => $"{e.Kind} {e.Name}: {e.Path}: {e.Message}")));
    }

    [Fact]
    public void The_examples_folder_has_pools_and_cloud_providers()
    {
        var files = ExampleFiles();
        Assert.Contains(files, f => f.StartsWith(Path.Combine("examples", "pools"), StringComparison.Ordinal));
        Assert.Contains(files, f => f.StartsWith(Path.Combine("examples", "clouds"), StringComparison.Ordinal));
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Atoll.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("cannot find the repository root (Atoll.slnx) above " + AppContext.BaseDirectory);
    }
}
