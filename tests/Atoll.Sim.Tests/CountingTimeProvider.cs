using Microsoft.Extensions.Time.Testing;

namespace Atoll.Sim.Tests;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that counts the timers created, so a test advances time only once the
/// server is actually waiting (advancing earlier would move the clock under a delay not yet started).
/// </summary>
internal sealed class CountingTimeProvider : FakeTimeProvider
{
    private int timers;

    public int TimersCreated => Volatile.Read(ref timers);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        Interlocked.Increment(ref timers);
        return base.CreateTimer(callback, state, dueTime, period);
    }

    public async Task WaitForTimersAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (TimersCreated < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"expected {count} timers, saw {TimersCreated}");
            }
            await Task.Delay(5);
        }
    }
}
