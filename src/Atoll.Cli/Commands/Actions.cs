using System.CommandLine;
using Atoll.Storage.State;

namespace Atoll.Cli.Commands;

/// <summary>Wraps command actions so that expected failures print one line on stderr and exit non-zero.</summary>
internal static class Actions
{
    public static void Set(Command command, Func<ParseResult, CancellationToken, Task<int>> action) =>
        command.SetAction(async (result, ct) =>
        {
            try
            {
                return await action(result, ct).ConfigureAwait(false);
            }
            catch (CliException e)
            {
                await Console.Error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
                return e.ExitCode;
            }
            catch (Exception e) when (e is ArgumentException or FormatException or StoreUnavailableException or InvalidDataException)
            {
                await Console.Error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
                return 1;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return 130;
            }
        });
}
