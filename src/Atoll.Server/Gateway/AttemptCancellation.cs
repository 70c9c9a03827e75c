using System.Collections.Concurrent;

namespace Atoll.Server.Gateway;

/// <summary>
/// The cancellation of one upstream attempt: cancelled when the client goes away or the attempt's time is up.
/// Instances are pooled and reset between attempts (as YARP's forwarder does), so an attempt costs no new
/// linked source and timer; one that was cancelled is not reused. A client connection that carries request after
/// request keeps one of its own instead (<see cref="Linked"/>), linked to it once for its whole life.
/// </summary>
internal sealed class AttemptCancellation : CancellationTokenSource
{
    private const int MaxPooled = 1024;
    private static readonly ConcurrentQueue<AttemptCancellation> Pool = new();
    private static int pooled;
    private CancellationTokenRegistration clientGone;

    private AttemptCancellation()
    {
    }

    /// <summary>A source cancelled when <paramref name="client"/> is, or after <paramref name="timeout"/>.</summary>
    public static AttemptCancellation Rent(TimeSpan timeout, CancellationToken client)
    {
        if (Pool.TryDequeue(out var source))
        {
            Interlocked.Decrement(ref pooled);
        }
        else
        {
            source = new AttemptCancellation();
        }
        source.CancelAfter(timeout);
        source.clientGone = client.UnsafeRegister(static s => ((AttemptCancellation)s!).Cancel(), source);
        return source;
    }

    /// <summary>
    /// A source of one client connection's own, cancelled when <paramref name="client"/> is: start each attempt with
    /// <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/>, end it with <see cref="TryEnd"/>.
    /// </summary>
    public static AttemptCancellation Linked(CancellationToken client)
    {
        var source = new AttemptCancellation();
        source.clientGone = client.UnsafeRegister(static s => ((AttemptCancellation)s!).Cancel(), source);
        return source;
    }

    /// <summary>Ends an attempt of a <see cref="Linked"/> source: false when it was cancelled, and is now disposed.</summary>
    public bool TryEnd()
    {
        if (TryReset())
        {
            return true;
        }
        Unlink();
        return false;
    }

    /// <summary>Unlinks a <see cref="Linked"/> source from its client and disposes it.</summary>
    public void Unlink()
    {
        clientGone.Dispose();
        clientGone = default;
        Dispose();
    }

    /// <summary>Ends the attempt: unlinks from the client and returns the source to the pool if it can be reused.</summary>
    public void Return()
    {
        clientGone.Dispose();
        clientGone = default;
        if (TryReset())
        {
            if (Interlocked.Increment(ref pooled) <= MaxPooled)
            {
                Pool.Enqueue(this);
                return;
            }
            Interlocked.Decrement(ref pooled);
        }
        Dispose();
    }
}
