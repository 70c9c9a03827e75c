namespace Atoll.Server.Batch;

/// <summary>Wakes long-polling agents when chunks may have become available on this server.</summary>
internal sealed class WorkSignal
{
    private TaskCompletionSource pulse = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task NextAsync() => Volatile.Read(ref pulse).Task;

    public void Pulse() =>
        Interlocked.Exchange(ref pulse, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
