namespace Atoll.Testing.Processes;

/// <summary>Polls a condition that another process makes true, with a deadline and a message saying what never happened.</summary>
public static class Eventually
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Evaluates <paramref name="condition"/> every 200 ms until it is true. An exception from the condition counts
    /// as "not yet" (the thing polled may not be up yet) and is attached to the <see cref="TimeoutException"/> thrown
    /// after <paramref name="timeout"/>; <paramref name="lastSeen"/>, when given, adds what was observed last.
    /// </summary>
    public static async Task Until(Func<Task<bool>> condition, TimeSpan timeout, string what, Func<string>? lastSeen = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTimeOffset.UtcNow + timeout;
        Exception? lastError = null;
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
                lastError = null;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                lastError = e;
            }
            if (DateTimeOffset.UtcNow >= deadline)
            {
                var seen = lastSeen is null ? "" : $"\nlast seen: {lastSeen()}";
                var error = lastError is null ? "" : $"\nlast error: {lastError.GetType().Name}: {lastError.Message}";
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0.#}s waiting until {what}{seen}{error}", lastError);
            }
            await Task.Delay(PollInterval);
        }
    }

    /// <summary>Synchronous-condition form of <see cref="Until(Func{Task{bool}}, TimeSpan, string, Func{string}?)"/>.</summary>
    public static Task Until(Func<bool> condition, TimeSpan timeout, string what, Func<string>? lastSeen = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return Until(() => Task.FromResult(condition()), timeout, what, lastSeen);
    }
}
