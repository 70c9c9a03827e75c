using System.CommandLine;
using Atoll.Cli.Client;
using Atoll.Core.Resources;

namespace Atoll.Cli.Commands;

/// <summary><c>atoll delete pool|provider NAME</c> and <c>atoll delete -f FILE|DIR</c>.</summary>
internal static class DeleteCommand
{
    public static Command Create()
    {
        var kind = new Argument<string?>("kind") { Description = "pool or provider (or KIND/NAME)", Arity = ArgumentArity.ZeroOrOne };
        var name = new Argument<string?>("name") { Description = "resource name", Arity = ArgumentArity.ZeroOrOne };
        var files = ApplyCommand.FilesOption("delete what these YAML files or directories declare (repeatable)");
        files.Required = false;
        var recursive = ApplyCommand.RecursiveOption();
        var command = new Command("delete", """
            Delete a GpuPool or a Provider. Deleting a pool terminates its nodes.

            Examples:
              atoll delete pool h100
              atoll delete provider lambda
              atoll delete -f examples/pools/      # everything the files declare, pools before providers
            """)
        { kind, name, files, recursive };
        Actions.Set(command, async (result, ct) =>
        {
            var paths = result.GetValue(files) ?? [];
            var (kindWord, resourceName) = Target(result.GetValue(kind), result.GetValue(name));
            if (paths.Length > 0 == kindWord is not null)
            {
                throw new CliException("give either KIND NAME (atoll delete pool h100) or -f FILE|DIR, not both and not neither");
            }
            var targets = paths.Length > 0
                ? [.. ApplyCommand.Load(paths, result.GetValue(recursive))
                    .Select(m => (m.Document.Kind, m.Document.Metadata.Name))
                    .Distinct()
                    .OrderBy(t => t.Kind == ResourceKinds.GpuPool ? 0 : 1)] // pools first: they hold on to their providers
                : new List<(string Kind, string Name)> { (Kind(kindWord!), resourceName ?? throw new CliException($"which {kindWord}? usage: atoll delete {kindWord} NAME")) };
            using var client = ClientSettings.CreateClient(result);
            var failed = 0;
            foreach (var (k, n) in targets)
            {
                var id = $"{k.ToLowerInvariant()}/{n}";
                try
                {
                    await client.DeleteAsync($"api/v1/resources/{Uri.EscapeDataString(k)}/{Uri.EscapeDataString(n)}", ct).ConfigureAwait(false);
                    Console.WriteLine($"{id} deleted");
                }
                catch (CliException e) when (targets.Count > 1)
                {
                    // With several resources, one failure must not hide what happened to the others.
                    await Console.Error.WriteLineAsync($"error: {id}: {e.Message}").ConfigureAwait(false);
                    failed++;
                }
                catch (CliException e)
                {
                    throw new CliException($"{id}: {e.Message}");
                }
            }
            return failed == 0 ? 0 : throw new CliException($"{failed} of {targets.Count} deletions failed");
        });
        return command;
    }

    /// <summary>"pool h100", "gpupool/h100" (kubectl's KIND/NAME) or nothing.</summary>
    private static (string? Kind, string? Name) Target(string? kind, string? name)
    {
        if (kind is not null && name is null && kind.IndexOf('/') is var slash and > 0)
        {
            return (kind[..slash], kind[(slash + 1)..]);
        }
        return (kind, name);
    }

    private static string Kind(string word)
    {
        var noun = GetCommand.Noun(word);
        return noun is ResourceKinds.GpuPool or ResourceKinds.Provider
            ? noun
            : throw new CliException($"only pools and providers can be deleted (got '{word}'); a pool's claims go when the pool shrinks or is deleted");
    }
}
