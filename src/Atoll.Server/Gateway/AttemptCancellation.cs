using System.Collections.Concurrent;

namespace Atoll.Server.Gateway;

/// <summary>
/// The cancellation of one upstream attempt: cancelled when the client goes away or the attempt's time is up.
/// Instances are pooled and reset between attempts (as YARP's forwarder does), so an attempt costs no new
/// linked source and timer; one that was cancelled is not reused.
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
