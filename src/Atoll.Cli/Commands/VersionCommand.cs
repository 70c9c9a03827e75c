using System.CommandLine;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Atoll.Cli.Commands;

/// <summary><c>atoll version</c>.</summary>
internal static class VersionCommand
{
    public static string Version { get; } =
        typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static Command Create()
    {
        var command = new Command("version", "Print the version of this atoll binary");
        command.SetAction(_ => Console.WriteLine($"atoll {Version} ({RuntimeInformation.FrameworkDescription}, {RuntimeInformation.RuntimeIdentifier})"));
        return command;
    }
}
