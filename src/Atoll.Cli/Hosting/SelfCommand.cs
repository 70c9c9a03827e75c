using System.Reflection;

namespace Atoll.Cli.Hosting;

/// <summary>How to start this same atoll binary again: the apphost directly, or <c>dotnet atoll.dll</c>.</summary>
internal static class SelfCommand
{
    public static (string FileName, IReadOnlyList<string> Prefix) Resolve()
    {
        var process = Environment.ProcessPath ?? throw new CliException("cannot tell the path of this atoll executable");
        if (Path.GetFileNameWithoutExtension(process).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            return (process, [Assembly.GetEntryAssembly()!.Location]);
        }
        return (process, []);
    }
}
