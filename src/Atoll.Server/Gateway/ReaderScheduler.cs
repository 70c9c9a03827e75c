using System.IO.Pipelines;

namespace Atoll.Server.Gateway;

/// <summary>
/// Where the input pipe of an <see cref="EpollConnection"/> runs its reader: on the thread of a read pass that allows
/// it (an inline connection's pass on its loop, or any pass on the pool), else on the thread pool. So a reader woken by
/// anyone else (Kestrel's heartbeat cancelling a read, a pass still on the loop after the connection was switched off
/// it) never runs Kestrel's requests on that thread.
/// </summary>
internal sealed class ReaderScheduler : PipeScheduler
{
    public static readonly ReaderScheduler Instance = new();

    [ThreadStatic]
    private static bool allowed;

    /// <summary>Lets the reader run on this thread while the result is not disposed.</summary>
    public static Permission Allow(bool inline)
    {
        var before = allowed;
        allowed = inline;
        return new Permission(before);
    }

    public override void Schedule(Action<object?> action, object? state)
    {
        if (allowed)
        {
            action(state);
        }
        else
        {
            System.Threading.ThreadPool.UnsafeQueueUserWorkItem(action, state, preferLocal: false);
        }
    }

    public readonly struct Permission(bool before) : IDisposable
    {
        public void Dispose() => allowed = before;
    }
}
