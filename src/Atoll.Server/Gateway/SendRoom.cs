namespace Atoll.Server.Gateway;

/// <summary>
/// Room to send on a socket of an <see cref="EpollLoop"/> (edge-triggered): whether epoll reported room since the
/// last wait, and the one sender waiting for such a report. Shared by <see cref="EpollStream"/> and
/// <see cref="EpollConnection"/>.
/// </summary>
internal sealed class SendRoom
{
    private readonly Lock gate = new();
    private bool ready;
    private TaskCompletionSource? waiter;
    private bool closed;
    private Exception? closedError;

    /// <summary>
    /// Completes once epoll reported room since the last wait (at once if it did already). After
    /// <see cref="Close"/>: at once, failed with its error if it had one.
    /// </summary>
    public Task WaitAsync()
    {
        lock (gate)
        {
            if (closed)
            {
                return closedError is null ? Task.CompletedTask : Task.FromException(closedError);
            }
            if (ready)
            {
                ready = false; // the next wait needs a new report
                return Task.CompletedTask;
            }
            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return waiter.Task;
        }
    }

    /// <summary>On the loop's thread: the socket has room again (or its connect ended).</summary>
    public void Signal()
    {
        // Room already reported and no sender waiting: nothing to change, and no lock. This is the usual case, as epoll
        // reports room with every read report. A sender that takes the room as this looks sends after the report came,
        // and a send that then finds the socket full is followed by a report of its own.
        if (Volatile.Read(ref ready) && Volatile.Read(ref waiter) is null)
        {
            return;
        }
        TaskCompletionSource? woken;
        lock (gate)
        {
            woken = waiter;
            waiter = null;
            // Also when a waiter is woken: it may be one whose send was cancelled, and the next wait must not miss
            // this report (at worst one send too many finds the socket full).
            ready = true;
        }
        woken?.TrySetResult();
    }

    /// <summary>
    /// No more waits: a waiting sender and every later wait complete at once, failed with <paramref name="error"/>
    /// unless it is null (the sender then tries once more and learns from its send).
    /// </summary>
    public void Close(Exception? error)
    {
        TaskCompletionSource? woken;
        lock (gate)
        {
            closed = true;
            closedError = error;
            woken = waiter;
            waiter = null;
        }
        if (error is null)
        {
            woken?.TrySetResult();
        }
        else
        {
            woken?.TrySetException(error);
        }
    }
}
