using Atoll.Core.Fleet;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Atoll.Core.Bootstrap;

/// <summary>Writes a <c>#cloud-config</c> document from the structured parts (packages, write_files, runcmd).</summary>
internal static class CloudConfigWriter
{
    public static string Write(IReadOnlyList<string> packages, IReadOnlyList<BootstrapFile> files, IReadOnlyList<string> runCommands)
    {
        var writeFiles = new YamlSequenceNode();
        foreach (var file in files)
        {
            writeFiles.Add(new YamlMappingNode
            {
                { "path", Quoted(file.Path) },
                // Quoted: a bare 0600 is an octal integer to YAML 1.1 readers and a decimal one to 1.2 readers.
                { "permissions", Quoted(file.Permissions) },
                { "owner", Quoted("root:root") },
                // Literal block (|): the file reads as it will be written. YamlDotNet falls back to a quoted
                // scalar by itself where a block cannot hold the text (trailing spaces, control characters).
                { "content", new YamlScalarNode(file.Content) { Style = ScalarStyle.Literal } },
            });
        }
        var root = new YamlMappingNode
        {
            { "packages", new YamlSequenceNode(packages.Select(Quoted)) },
            { "write_files", writeFiles },
            { "runcmd", new YamlSequenceNode(runCommands.Select(Quoted)) },
        };
        using var writer = new StringWriter { NewLine = "\n" };
        writer.Write("#cloud-config\n");
        new YamlStream(new YamlDocument(root)).Save(writer, assignAnchors: false);
        var text = writer.ToString();
        // YamlStream ends every document with an explicit "..." marker; cloud-init does not need it.
        return text.EndsWith("...\n", StringComparison.Ordinal) ? text[..^4] : text;
    }

    private static YamlScalarNode Quoted(string value) => new(value) { Style = ScalarStyle.DoubleQuoted };
}
