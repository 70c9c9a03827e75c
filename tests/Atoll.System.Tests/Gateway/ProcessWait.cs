using Atoll.Testing.Processes;

namespace Atoll.System.Tests.Gateway;

/// <summary>Polling that gives up at once when the process being waited for has exited.</summary>
internal static class ProcessWait
{
    /// <summary>Makes an atoll process stop by itself should the test host die without disposing it.</summary>
    public static readonly string[] ExitWithTestHost = ["--exit-with-parent", Environment.ProcessId.ToString()];

    /// <summary>
    /// Polls <paramref name="condition"/> until true. Unlike a bare <see cref="Eventually.Until(Func{Task{bool}}, TimeSpan, string, Func{string}?)"/>
    /// (which treats every exception as "not yet"), an exit of <paramref name="process"/> fails the wait immediately.
    /// </summary>
    public static async Task UntilAsync(AtollProcess process, Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        try
        {
            await Eventually.Until(async () =>
            {
                if (process.HasExited)
                {
                    return true;
                }
                return await condition();
            }, timeout, what, process.Tail);
        }
        catch (TimeoutException) when (process.HasExited)
        {
            throw await ProcessExitedException.OfAsync(process);
        }
        if (process.HasExited)
        {
            throw await ProcessExitedException.OfAsync(process);
        }
    }
}

/// <summary>A process under test ended while a test waited for it; the message holds its exit code and last output.</summary>
internal sealed class ProcessExitedException(string message, string output) : InvalidOperationException(message)
{
    /// <summary>Everything the process printed.</summary>
    public string Output { get; } = output;

    public static async Task<ProcessExitedException> OfAsync(AtollProcess process)
    {
        // Let the output pipes drain so the message shows why it ended.
        var code = await process.WaitForExitAsync(TimeSpan.FromSeconds(5));
        return new ProcessExitedException($"{process} exited with code {code}:\n{process.Tail()}", process.Output);
    }
}
