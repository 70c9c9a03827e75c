using System.Collections.Concurrent;

namespace Atoll.Providers.Tests.Lambda;

/// <summary>The system clock, except that every timer's delay is recorded and then fires at once: tests see the waits an adapter asks for (Retry-After, pacing) without waiting.</summary>
internal sealed class DelayRecordingTime : TimeProvider
{
    public ConcurrentQueue<TimeSpan> Delays { get; } = new();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            Delays.Enqueue(dueTime);
            dueTime = TimeSpan.Zero;
        }
        return base.CreateTimer(callback, state, dueTime, period);
    }
}
