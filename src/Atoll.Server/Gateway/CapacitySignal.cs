namespace Atoll.Server.Gateway;

/// <summary>
/// Wakes requests waiting for a saturated model whenever any request ends: a generation-swapped
/// <see cref="TaskCompletionSource"/>, so waking costs nothing when nobody waits. Bounded: at most
/// <c>capacity</c> requests wait at once.
/// </summary>
internal sealed class CapacitySignal(int capacity)
{
    private TaskCompletionSource released = NewSource();
    private int waiting;

    public int Waiting => Volatile.Read(ref waiting);

    /// <summary>Takes a place in the queue; false when it is full.</summary>
    public bool TryEnter()
    {
        if (Interlocked.Increment(ref waiting) <= capacity)
        {
            return true;
        }
        Interlocked.Decrement(ref waiting);
        return false;
    }

    public void Leave() => Interlocked.Decrement(ref waiting);

    /// <summary>Completes when some request ends after this call.</summary>
    public Task NextReleaseAsync() => Volatile.Read(ref released).Task;

    /// <summary>A request ended: wake the waiters.</summary>
    public void Release()
    {
        if (Volatile.Read(ref waiting) == 0)
        {
            return;
        }
        Interlocked.Exchange(ref released, NewSource()).TrySetResult();
    }

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
